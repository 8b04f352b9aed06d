"""Open311 GeoReport v2 over intake's cases: the rules, free of I/O.

What the catalogue offers becomes services, a case becomes a service request, and what a client
sends (a form, a query) becomes a submission or a query, or a `Refused` with the spec's status.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar, cast

from pydantic import BaseModel, ValidationError

from services.intake import domain
from services.intake.channels.open311_format import Value
from services.intake.channels.web import ContactIn, LocationIn
from services.intake.models import CatalogueCategory
from services.kernel.events.contracts import Contact, Kind, Location, ScopeLevel
from services.kernel.language import InvalidValue, Language, error_message
from services.kernel.telemetry import mask_pii
from services.kernel.workdays import LOCAL_TZ

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The service for a request whose category the citizen does not know: routed by its text.
OTHER = "other"
# Intake's statuses that mean the county is done with the case; every other one is open.
CLOSED_STATUSES = frozenset({"resolved", "closed", "answered", "merged", "withdrawn"})
TIP_OFF = "tip-off"
# The spec's limits on GET requests: a window of 90 days, at most 1000 requests.
WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_DESCRIPTION = 4000
MAX_MEDIA_URL = 2000
MAX_ACCOUNT_ID = 100
# Before routing has first published its catalogue, discovery still needs a changeset.
FIRST_CHANGESET = datetime(2026, 12, 1, tzinfo=LOCAL_TZ)

# The kinds a citizen may choose over Open311: a tip-off's reporter must stay sealed, and
# Open311 makes requests public, so tip-offs go through the web portal or the hotline.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "complaint": ("投诉", "Complaint"),
    "help": ("求助", "Request for help"),
    "consultation": ("咨询", "Question"),
    "suggestion": ("建议", "Suggestion"),
    "praise": ("表扬", "Praise"),
}
SCOPE_NAMES: dict[str, tuple[str, str]] = {
    "individual": ("个人", "One person"),
    "family": ("家庭", "One family"),
    "villager-group": ("村民小组", "A villagers' group"),
    "village": ("全村", "A whole village"),
    "society": ("社会面", "Society at large"),
}

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# `+08:00` sent without URL encoding arrives as ` 08:00`.
_UNENCODED_PLUS = re.compile(r" (\d\d:?\d\d)$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_TRUE = frozenset({"true", "1", "yes"})

Form = Mapping[str, Sequence[str]]
_Model = TypeVar("_Model", bound=BaseModel)


class Refused(Exception):
    """The request cannot be served: the spec's HTTP status and why, in both languages."""

    def __init__(self, status: int, *reasons: InvalidValue) -> None:
        super().__init__(status, [reason.en for reason in reasons])
        self.status = status
        self.reasons = reasons

    def descriptions(self, language: Language) -> list[str]:
        return [reason.text(language) for reason in self.reasons]


def _field(name: str, en: str, zh: str) -> InvalidValue:
    return InvalidValue(f"{name}: {en}", f"{name}：{zh}")


# --- services ----------------------------------------------------------------------------------


def service_code(category: str | None) -> str:
    """A category's code: plain ASCII for any client, stable while the category keeps its name."""
    if category is None:
        return OTHER
    return hashlib.sha256(category.encode()).hexdigest()[:8]


def services_document(
    categories: Sequence[CatalogueCategory], language: Language
) -> list[dict[str, Value]]:
    """One service per category of the catalogue, then the one for "I don't know"."""
    by_department: dict[str, list[str]] = {}
    for row in categories:
        by_department.setdefault(row.department_code, []).append(row.category)
    services: list[dict[str, Value]] = []
    for row in categories:
        synonyms = [c for c in by_department[row.department_code] if c != row.category]
        handled_by = row.department_name if language == "zh" else row.department_name_en
        services.append(
            _service(
                service_code(row.category),
                row.category,
                f"由{handled_by}办理" if language == "zh" else f"Handled by the {handled_by}",
                ", ".join([*synonyms, row.department_name, row.department_name_en]),
                row.department_name,
            )
        )
    other = InvalidValue("Other", "其他")
    services.append(
        _service(
            OTHER,
            other.text(language),
            InvalidValue(
                "Not sure which to choose: the 12345 centre routes it by what you write",
                "不确定选哪一类时选这一项：12345 热线按内容分派",
            ).text(language),
            "",
            other.text(language),
        )
    )
    return services


def _service(code: str, name: str, description: str, keywords: str, group: str) -> dict[str, Value]:
    return {
        "service_code": code,
        "service_name": name,
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": keywords,
        "group": group,
    }


def definition_document(code: str, language: Language) -> dict[str, Value]:
    """The attributes every service asks for: the kind of request, and how far it reaches."""
    zh = language == "zh"
    return {
        "service_code": code,
        "attributes": [
            _list_attribute(
                "kind",
                required=True,
                order=1,
                description=InvalidValue("What kind of request is this?", "这是哪一类诉求？").text(
                    language
                ),
                names=KIND_NAMES,
                language=language,
            ),
            _list_attribute(
                "scope_level",
                required=False,
                order=2,
                description=InvalidValue(
                    "Whom does the problem affect?", "这个问题涉及多大范围？"
                ).text(language),
                names=SCOPE_NAMES,
                language=language,
            ),
            {
                "variable": False,
                "code": "notice",
                "datatype": "text",
                "required": False,
                "datatype_description": None,
                "order": 3,
                "description": (
                    "受理后我们以短信告知受理编号和查询码，办理每一步也会短信通知。诉求内容会公开，"
                    "您的姓名和联系方式不会公开。举报请通过网站或 12345 热线提交，举报人信息保密。"
                    if zh
                    else "Once accepted, you get the tracking number and access code by SMS, and "
                    "a message at every step. What you report is published; your name and "
                    "contact details are not. Report wrongdoing (tip-offs) through the web portal "
                    "or the 12345 hotline instead, where the reporter stays confidential."
                ),
                "values": [],
            },
        ],
    }


def _list_attribute(
    code: str,
    *,
    required: bool,
    order: int,
    description: str,
    names: Mapping[str, tuple[str, str]],
    language: Language,
) -> dict[str, Value]:
    return {
        "variable": True,
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "datatype_description": None,
        "order": order,
        "description": description,
        "values": [
            {"key": key, "name": zh if language == "zh" else en} for key, (zh, en) in names.items()
        ],
    }


def discovery_document(url: str, changeset: datetime | None, language: Language) -> Value:
    """Where the GeoReport v2 endpoint is, what it speaks, and whom to ask for a key."""
    stamp = w3_datetime(changeset or FIRST_CHANGESET)
    return {
        "changeset": stamp,
        "contact": InvalidValue(
            "Questions about this API: ask the county's 12345 service centre",
            "对本接口有疑问，请联系本县 12345 热线服务中心",
        ).text(language),
        "key_service": InvalidValue(
            "API keys are issued by the system's operators: minqing open311 add-client NAME",
            "API 密钥由系统管理员发放：minqing open311 add-client 名称",
        ).text(language),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": stamp,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- a submission ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """A POSTed service request, checked, in intake's terms."""

    service_code: str
    kind: Kind
    scope_level: ScopeLevel | None
    description: str
    location: Location
    contact: Contact
    media_url: str | None
    account_id: str | None


def first_value(form: Form, name: str) -> str | None:
    """The parameter's first value; an empty one counts as not sent, as the spec says."""
    for value in form.get(name, ()):
        if value.strip():
            return value.strip()
    return None


def read_post(form: Form) -> Posted:
    """The form of POST requests.[format], or `Refused(400)` naming every field that is wrong."""
    problems: list[InvalidValue] = []
    code = first_value(form, "service_code")
    if code is None:
        problems.append(_field("service_code", "required", "必须填写"))
    kind, scope_level = _read_attributes(form, problems)
    description = first_value(form, "description")
    if description is None:
        problems.append(
            _field("description", "required; say what the problem is", "必须填写，请说明问题")
        )
    elif len(description) > MAX_DESCRIPTION:
        problems.append(
            _field(
                "description",
                f"at most {MAX_DESCRIPTION} characters",
                f"最多 {MAX_DESCRIPTION} 个字符",
            )
        )
    location = _read_location(form, problems)
    contact = _read_contact(form, problems)
    media_url = first_value(form, "media_url")
    if media_url is not None and (len(media_url) > MAX_MEDIA_URL or not _URL.match(media_url)):
        problems.append(
            _field(
                "media_url",
                f"must be an http(s) URL of at most {MAX_MEDIA_URL} characters",
                f"应为 http(s) 链接，最多 {MAX_MEDIA_URL} 个字符",
            )
        )
    account_id = first_value(form, "account_id")
    if account_id is not None and len(account_id) > MAX_ACCOUNT_ID:
        problems.append(
            _field(
                "account_id",
                f"at most {MAX_ACCOUNT_ID} characters",
                f"最多 {MAX_ACCOUNT_ID} 个字符",
            )
        )
    # Each of these is None only when a problem says why.
    if (
        problems
        or code is None
        or kind is None
        or description is None
        or location is None
        or contact is None
    ):
        raise Refused(400, *problems)
    if media_url is not None:
        # Departments read the description; the URL is kept, never fetched.
        description = f"{description}\n\n媒体链接：{media_url}"
    return Posted(code, kind, scope_level, description, location, contact, media_url, account_id)


def _read_attributes(
    form: Form, problems: list[InvalidValue]
) -> tuple[Kind | None, ScopeLevel | None]:
    values: dict[str, str] = {}
    for name in form:
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        attribute = match[1]
        if attribute not in ("kind", "scope_level"):
            problems.append(
                _field(name, "this service has no such attribute", "此服务没有这个属性")
            )
            continue
        value = first_value(form, name)
        if value is not None:
            values[attribute] = value
    kind = values.get("kind")
    if kind is None:
        problems.append(
            _field(
                "attribute[kind]",
                f"required, one of {', '.join(KIND_NAMES)}",
                f"必须填写，只能是以下之一：{'、'.join(KIND_NAMES)}",
            )
        )
    elif kind == TIP_OFF:
        problems.append(
            _field(
                "attribute[kind]",
                "tip-offs are not accepted over Open311, where requests are public: report "
                "through the web portal or the 12345 hotline, which keep the reporter confidential",
                "Open311 的诉求是公开的，不受理举报：请通过网站或 12345 热线举报，举报人信息保密",
            )
        )
        kind = None
    elif kind not in KIND_NAMES:
        problems.append(
            _field(
                "attribute[kind]",
                f"must be one of {', '.join(KIND_NAMES)}",
                f"只能是以下之一：{'、'.join(KIND_NAMES)}",
            )
        )
        kind = None
    scope = values.get("scope_level")
    if scope is not None and scope not in SCOPE_NAMES:
        problems.append(
            _field(
                "attribute[scope_level]",
                f"must be one of {', '.join(SCOPE_NAMES)}",
                f"只能是以下之一：{'、'.join(SCOPE_NAMES)}",
            )
        )
        scope = None
    return cast(Kind | None, kind), cast(ScopeLevel | None, scope)


# Open311's names for the fields of the web channel's models, so errors name what was sent.
_LOCATION_FIELDS = {"address": "address_string", "lat": "lat", "lon": "long"}
_CONTACT_FIELDS = {"name": "first_name/last_name", "phone": "phone", "email": "email"}


def _read_location(form: Form, problems: list[InvalidValue]) -> Location | None:
    sent = {
        "address": first_value(form, "address_string"),
        "lat": first_value(form, "lat"),
        "lon": first_value(form, "long"),
    }
    checked = _validated(LocationIn, sent, _LOCATION_FIELDS, "lat/long", problems)
    if checked is None:
        return None
    if checked.address is None and checked.lat is None:
        if first_value(form, "address_id") is not None:
            problems.append(
                _field(
                    "address_id",
                    "not known here: send lat and long, or address_string",
                    "本系统不识别地址编号：请提供经纬度（lat、long）或地址（address_string）",
                )
            )
        else:
            problems.append(
                _field(
                    "lat/long",
                    "a location is required: lat and long, or address_string",
                    "必须提供位置：经纬度（lat、long）或地址（address_string）",
                )
            )
        return None
    return Location(**checked.model_dump())


def _read_contact(form: Form, problems: list[InvalidValue]) -> Contact | None:
    sent = {
        "name": full_name(first_value(form, "first_name"), first_value(form, "last_name")),
        "phone": first_value(form, "phone"),
        "email": first_value(form, "email"),
    }
    checked = _validated(ContactIn, sent, _CONTACT_FIELDS, "phone/email", problems)
    return None if checked is None else Contact(**checked.model_dump())


def _validated(
    model: type[_Model],
    sent: dict[str, str | None],
    names: Mapping[str, str],
    whole: str,
    problems: list[InvalidValue],
) -> _Model | None:
    """The web channel's own checks, with each error named as the Open311 field."""
    try:
        return model.model_validate(sent)
    except ValidationError as exc:
        for error in exc.errors():
            location = error.get("loc", ())
            name = names.get(str(location[0]), whole) if location else whole
            problems.append(
                InvalidValue(
                    f"{name}: {error_message(error, 'en')}",
                    f"{name}：{error_message(error, 'zh')}",
                )
            )
        return None


def full_name(first: str | None, last: str | None) -> str | None:
    """A Chinese name is written family name first, without a space; others given name first."""
    if first is None and last is None:
        return None
    if _CJK.search(f"{first or ''}{last or ''}"):
        return f"{last or ''}{first or ''}"
    return " ".join(part for part in (first, last) if part)


def accepted_notice(promised: date, language: Language, by_sms: bool) -> str:
    """What the citizen is told on submitting: when to expect the reply, and how they will hear."""
    if language == "zh":
        sms = "，受理编号和查询码已发送到您的手机" if by_sms else ""
        return f"已受理，将于{promised.year}年{promised.month}月{promised.day}日前答复{sms}。"
    sms = "; the tracking number and access code are on their way to your phone by SMS"
    return f"Accepted: you will have a reply by {promised.isoformat()}{sms if by_sms else ''}."


# --- a query -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    """GET requests.[format]: which cases, in which order, how many."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    requested_from: datetime | None = None
    requested_to: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_REQUESTS
    extensions: bool = False


def read_query(params: Form, now: datetime) -> RequestQuery:
    """The parameters of GET requests.[format], with the spec's defaults and limits."""
    problems: list[InvalidValue] = []
    ids = _listed(params, "service_request_id")
    if len(ids) > MAX_REQUESTS:
        problems.append(
            _field(
                "service_request_id",
                f"at most {MAX_REQUESTS} at once",
                f"一次最多 {MAX_REQUESTS} 个",
            )
        )
    statuses = frozenset(_listed(params, "status"))
    if statuses - {"open", "closed"}:
        problems.append(_field("status", "must be open or closed", "只能是 open 或 closed"))
    start = _moment(params, "start_date", problems)
    end = _moment(params, "end_date", problems)
    updated_after = _moment(params, "updated_after", problems)
    updated_before = _moment(params, "updated_before", problems)
    page = _whole(params, "page", 1, None, problems)
    page_size = _whole(params, "page_size", MAX_REQUESTS, MAX_REQUESTS, problems)
    window: tuple[datetime | None, datetime | None] = (None, None)
    if not problems:
        try:
            window = requested_window(
                start, end, now, updated=updated_after is not None or updated_before is not None
            )
        except InvalidValue as exc:
            problems.append(exc)
    if problems:
        raise Refused(400, *problems)
    return RequestQuery(
        ids=tuple(ids),
        service_codes=tuple(_listed(params, "service_code")),
        statuses=statuses,
        requested_from=window[0],
        requested_to=window[1],
        updated_after=updated_after,
        updated_before=updated_before,
        page=page,
        page_size=page_size,
        extensions=(first_value(params, "extensions") or "").lower() in _TRUE,
    )


def requested_window(
    start: datetime | None, end: datetime | None, now: datetime, *, updated: bool
) -> tuple[datetime | None, datetime | None]:
    """The span of requested_datetime to search: at most 90 days, the latest 90 by default.

    A client that asks by update time (`updated_after`/`updated_before`, an extension) and gives
    no start or end date is syncing changes, so no default span of submission dates applies.
    """
    if start is not None and end is not None:
        if end < start:
            raise InvalidValue(
                "end_date: before start_date", "end_date：结束时间早于开始时间（start_date）"
            )
        if end - start > WINDOW:
            raise InvalidValue(
                "start_date/end_date: may not span more than 90 days",
                "start_date/end_date：时间跨度不能超过 90 天",
            )
        return start, end
    if start is not None:
        return start, start + WINDOW
    if end is not None:
        return end - WINDOW, end
    if updated:
        return None, None
    return now - WINDOW, now


def parse_w3(raw: str) -> datetime:
    """A w3 date and time; a time without an offset is read as local time. ValueError if none."""
    text = _UNENCODED_PLUS.sub(r"+\1", raw.strip())
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _moment(params: Form, name: str, problems: list[InvalidValue]) -> datetime | None:
    raw = first_value(params, name)
    if raw is None:
        return None
    try:
        return parse_w3(raw)
    except ValueError:
        problems.append(
            _field(
                name,
                "must be a w3 date and time, e.g. 2010-01-01T00:00:00Z",
                "日期时间格式应如 2010-01-01T00:00:00Z",
            )
        )
        return None


def _whole(
    params: Form, name: str, default: int, most: int | None, problems: list[InvalidValue]
) -> int:
    raw = first_value(params, name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (most is not None and int(raw) > most):
        limit = f" up to {most}" if most is not None else ""
        limit_zh = f"，最大 {most}" if most is not None else ""
        problems.append(
            _field(name, f"must be a whole number from 1{limit}", f"应为从 1 起的整数{limit_zh}")
        )
        return default
    return int(raw)


def _listed(params: Form, name: str) -> list[str]:
    """Comma-delimited, and the parameter may also be repeated; both as the spec allows."""
    return [
        item.strip() for value in params.get(name, ()) for item in value.split(",") if item.strip()
    ]


# --- a service request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    at: datetime
    status: str
    note: str | None


@dataclass(frozen=True)
class CaseRecord:
    """What Open311 may show of a case: never its contact, its name or its access code."""

    tracking_no: str
    status: str
    kind: str
    channel: str
    category: str | None
    description: str
    department_name: str | None
    promised_date: date
    submitted_at: datetime
    updated_at: datetime
    address: str | None
    lat: float | None
    lon: float | None
    media_url: str | None
    timeline: tuple[Note, ...]


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def request_document(record: CaseRecord, language: Language, extensions: bool) -> dict[str, Value]:
    """A case as a GeoReport v2 service request; `extensions` adds its notes, oldest first."""
    status = open311_status(record.status)
    document: dict[str, Value] = {
        "service_request_id": record.tracking_no,
        "status": status,
        "status_notes": status_notes(record.timeline),
        "service_name": record.category or InvalidValue("Other", "其他").text(language),
        "service_code": service_code(record.category),
        # Published to everyone: a number or address the citizen typed into it is masked.
        "description": mask_pii(record.description),
        "agency_responsible": record.department_name,
        "service_notice": promise_notice(record.promised_date, language)
        if status == "open"
        else None,
        "requested_datetime": w3_datetime(record.submitted_at),
        "updated_datetime": w3_datetime(record.updated_at),
        "expected_datetime": expected_datetime(record.promised_date),
        "address": mask_pii(record.address) if record.address else None,
        "address_id": None,
        "zipcode": None,
        "lat": record.lat,
        "long": record.lon,
        "media_url": record.media_url,
    }
    if extensions:
        document["extended_attributes"] = {"channel": record.channel, "kind": record.kind}
        document["notes"] = [_note(entry) for entry in record.timeline]
    return document


def status_notes(timeline: Sequence[Note]) -> str | None:
    """The latest step of the case, as its timeline words it; material added is no step."""
    for entry in reversed(timeline):
        if entry.status != "supplemented":
            label = _label(entry.status)
            return f"{label}：{mask_pii(entry.note)}" if entry.note else label
    return None


def _note(entry: Note) -> dict[str, Value]:
    label = _label(entry.status)
    # What a citizen added is theirs to see through their access code, not the public's.
    shown = entry.note if entry.note and entry.status != "supplemented" else None
    return {
        "datetime": w3_datetime(entry.at),
        "type": entry.status,
        "summary": label,
        "description": mask_pii(shown) if shown else label,
    }


def _label(status: str) -> str:
    return domain.STATUS_LABELS.get(status, status)


def promise_notice(promised: date, language: Language) -> str:
    if language == "zh":
        return f"将于{promised.year}年{promised.month}月{promised.day}日前答复"
    return f"A reply is due by {promised.isoformat()}"


def w3_datetime(moment: datetime) -> str:
    """ISO 8601 with the county's offset, to the second: 2026-12-01T09:30:00+08:00."""
    return moment.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()


def expected_datetime(promised: date) -> str:
    """The promised day runs to its last second, local time."""
    return datetime.combine(promised, time(23, 59, 59), tzinfo=LOCAL_TZ).isoformat()
