"""The Open311 rules: services from the catalogue, requests from cases, forms and queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest

from services.intake.channels.open311_mapping import (
    KIND_NAMES,
    MAX_REQUESTS,
    OTHER,
    SCOPE_NAMES,
    TIP_OFF,
    CaseRecord,
    Note,
    Refused,
    accepted_notice,
    definition_document,
    expected_datetime,
    full_name,
    open311_status,
    parse_w3,
    read_post,
    read_query,
    request_document,
    requested_window,
    service_code,
    services_document,
    w3_datetime,
)
from services.intake.domain import STATUS_LABELS
from services.intake.models import CatalogueCategory
from services.kernel.events.contracts import Kind, ScopeLevel
from services.kernel.language import InvalidValue

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def category(name: str, code: str, department: str, department_en: str) -> CatalogueCategory:
    return CatalogueCategory(
        category=name,
        position=0,
        department_code=code,
        department_name=department,
        department_name_en=department_en,
        published_at=NOW,
    )


CATALOGUE = [
    category("教育文体", "edu", "县教育局", "County Education Bureau"),
    category("教育", "edu", "县教育局", "County Education Bureau"),
    category("环境保护", "env", "生态环境局县分局", "Ecology and Environment Bureau"),
]


def form(**fields: str) -> dict[str, list[str]]:
    """A valid submission, changed by `fields`; `attribute_kind` stands for attribute[kind]."""
    values = {
        "api_key": "k",
        "service_code": service_code("教育文体"),
        "attribute[kind]": "complaint",
        "description": "校车超载",
        "address_string": "越溪乡王家村",
        "phone": "13812345678",
    }
    for name, value in fields.items():
        values[name.replace("attribute_", "attribute[") + ("]" if "attribute_" in name else "")] = (
            value
        )
    return {k: [v] for k, v in values.items()}


def problems_of(fields: dict[str, list[str]]) -> list[str]:
    with pytest.raises(Refused) as caught:
        read_post(fields)
    assert caught.value.status == 400
    return caught.value.descriptions("en")


# --- services --------------------------------------------------------------------------------


def test_service_codes_are_short_ascii_and_stable_per_category() -> None:
    code = service_code("教育文体")
    assert code == service_code("教育文体")
    assert code.isascii()
    assert code.isalnum()
    assert len(code) == 8
    assert code != service_code("教育")
    assert service_code(None) == OTHER


def test_one_service_per_category_grouped_by_department_then_other() -> None:
    services = services_document(CATALOGUE, "zh")
    assert [s["service_name"] for s in services] == ["教育文体", "教育", "环境保护", "其他"]
    first = services[0]
    assert first == {
        "service_code": service_code("教育文体"),
        "service_name": "教育文体",
        "description": "由县教育局办理",
        "metadata": True,
        "type": "realtime",
        "keywords": "教育, 县教育局, County Education Bureau",
        "group": "县教育局",
    }
    assert services[-1]["service_code"] == OTHER
    assert services[-1]["metadata"] is True
    english = services_document(CATALOGUE, "en")
    assert english[0]["description"] == "Handled by the County Education Bureau"
    assert english[0]["group"] == "县教育局"  # the catalogue's names are the catalogue's


def test_the_definition_asks_for_the_kind_but_never_offers_a_tip_off() -> None:
    definition = definition_document("abc", "zh")
    assert definition["service_code"] == "abc"
    attributes = definition["attributes"]
    assert isinstance(attributes, list)
    kind, scope, notice = attributes
    assert isinstance(kind, dict)
    assert isinstance(scope, dict)
    assert isinstance(notice, dict)
    assert (kind["code"], kind["datatype"], kind["required"], kind["order"]) == (
        "kind",
        "singlevaluelist",
        True,
        1,
    )
    values = kind["values"]
    assert isinstance(values, list)
    keys = [v["key"] for v in values if isinstance(v, dict)]
    assert keys == ["complaint", "help", "consultation", "suggestion", "praise"]
    assert TIP_OFF not in keys
    assert (scope["code"], scope["required"]) == ("scope_level", False)
    assert notice["variable"] is False
    assert "举报" in str(notice["description"])
    orders = [a["order"] for a in attributes if isinstance(a, dict)]
    assert orders == [1, 2, 3]


def test_the_offered_kinds_and_scopes_are_the_events_less_tip_offs() -> None:
    assert set(KIND_NAMES) == set(get_args(Kind)) - {TIP_OFF}
    assert set(SCOPE_NAMES) == set(get_args(ScopeLevel))


# --- a submission ------------------------------------------------------------------------------


def test_a_valid_form_becomes_a_submission() -> None:
    posted = read_post(
        form(
            lat="29.3",
            long="120.1",
            email="wang@example.com",
            first_name="芳",
            last_name="王",
            attribute_scope_level="village",
            account_id="acc-7",
            device_id="ignored",
            phone="+86 138-1234-5678",
        )
    )
    assert posted.kind == "complaint"
    assert posted.scope_level == "village"
    assert posted.location.address == "越溪乡王家村"
    assert (posted.location.lat, posted.location.lon) == (29.3, 120.1)
    assert posted.contact.name == "王芳"
    assert posted.contact.phone == "13812345678"
    assert posted.contact.email == "wang@example.com"
    assert posted.account_id == "acc-7"
    assert posted.media_url is None


def test_the_media_url_is_kept_and_written_into_the_description() -> None:
    posted = read_post(form(media_url="https://img.example.com/1.jpg"))
    assert posted.media_url == "https://img.example.com/1.jpg"
    assert posted.description.endswith("https://img.example.com/1.jpg")
    assert posted.description.startswith("校车超载")


def test_every_missing_field_is_named_at_once() -> None:
    problems = problems_of({"api_key": ["k"], "description": [" "]})
    assert [p.split(":")[0] for p in problems] == [
        "service_code",
        "attribute[kind]",
        "description",
        "lat/long",
        "phone/email",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"attribute_kind": "rant"}, "attribute[kind]", "must be one of complaint"),
        ({"attribute_kind": "tip-off"}, "attribute[kind]", "tip-offs are not accepted"),
        ({"attribute_scope_level": "planet"}, "attribute[scope_level]", "must be one of"),
        ({"attribute_colour": "red"}, "attribute[colour]", "no such attribute"),
        ({"description": "长" * 4001}, "description", "at most 4000"),
        ({"phone": "12345"}, "phone", "mainland China mobile"),
        ({"phone": "", "email": "nope"}, "email", "email address"),
        ({"lat": "29.3"}, "lat/long", "lat and lon go together"),
        ({"lat": "north", "long": "120"}, "lat", "valid number"),
        ({"lat": "95", "long": "120"}, "lat", "less than or equal to 90"),
        ({"address_string": "", "address_id": "545483"}, "address_id", "not known here"),
        ({"media_url": "javascript:alert(1)"}, "media_url", "http(s) URL"),
        ({"first_name": "x" * 60}, "first_name/last_name", "at most 50"),
    ],
)
def test_a_bad_field_is_refused_by_its_open311_name(
    fields: dict[str, str], field: str, reason: str
) -> None:
    problems = problems_of(form(**fields))
    assert any(p.startswith(f"{field}:") and reason in p for p in problems), problems


def test_refusals_are_in_chinese_too() -> None:
    with pytest.raises(Refused) as caught:
        read_post(form(attribute_kind="tip-off"))
    (zh,) = caught.value.descriptions("zh")
    assert zh.startswith("attribute[kind]：")
    assert "不受理举报" in zh


def test_an_empty_parameter_counts_as_not_sent() -> None:
    posted = read_post(form(email="", lat="", long=""))
    assert posted.contact.email is None
    assert posted.location.lat is None


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        ("芳", "王", "王芳"),
        ("John", "Smith", "John Smith"),
        ("John", None, "John"),
        (None, "王", "王"),
        (None, None, None),
    ],
)
def test_names_join_the_way_each_language_writes_them(
    first: str | None, last: str | None, name: str | None
) -> None:
    assert full_name(first, last) == name


def test_the_notice_says_when_and_how_the_citizen_will_hear() -> None:
    assert accepted_notice(date(2026, 12, 18), "zh", by_sms=True) == (
        "已受理，将于2026年12月18日前答复，受理编号和查询码已发送到您的手机。"
    )
    assert "SMS" not in accepted_notice(date(2026, 12, 18), "en", by_sms=False)


# --- a query -----------------------------------------------------------------------------------


def test_by_default_the_latest_90_days_and_the_first_1000() -> None:
    query = read_query({}, NOW)
    assert (query.requested_from, query.requested_to) == (NOW - timedelta(days=90), NOW)
    assert (query.page, query.page_size) == (1, MAX_REQUESTS)
    assert query.extensions is False


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW - timedelta(days=10), None, (NOW - timedelta(days=10), NOW + timedelta(days=80))),
        (None, NOW - timedelta(days=1), (NOW - timedelta(days=91), NOW - timedelta(days=1))),
        (NOW - timedelta(days=90), NOW, (NOW - timedelta(days=90), NOW)),
    ],
)
def test_a_window_is_completed_to_90_days(
    start: datetime | None, end: datetime | None, expected: tuple[datetime, datetime]
) -> None:
    assert requested_window(start, end, NOW, updated=False) == expected


def test_a_window_longer_than_90_days_or_backwards_is_refused() -> None:
    with pytest.raises(InvalidValue, match="90 days"):
        requested_window(NOW - timedelta(days=91), NOW, NOW, updated=False)
    with pytest.raises(InvalidValue, match="before start_date"):
        requested_window(NOW, NOW - timedelta(days=1), NOW, updated=False)
    with pytest.raises(Refused) as caught:
        read_query(
            {"start_date": ["2026-01-01T00:00:00Z"], "end_date": ["2026-06-01T00:00:00Z"]}, NOW
        )
    assert caught.value.status == 400


def test_asking_by_update_time_alone_searches_every_submission_date() -> None:
    query = read_query({"updated_after": ["2026-11-30T00:00:00Z"]}, NOW)
    assert (query.requested_from, query.requested_to) == (None, None)
    assert query.updated_after == datetime(2026, 11, 30, tzinfo=UTC)


def test_lists_may_be_comma_delimited_or_repeated() -> None:
    query = read_query(
        {
            "service_request_id": ["20261201-000001, 20261201-000002", "20261201-000003"],
            "status": ["open,closed"],
            "service_code": ["a1,other"],
            "page": ["3"],
            "page_size": ["50"],
            "extensions": ["true"],
        },
        NOW,
    )
    assert query.ids == ("20261201-000001", "20261201-000002", "20261201-000003")
    assert query.statuses == {"open", "closed"}
    assert query.service_codes == ("a1", "other")
    assert (query.page, query.page_size, query.extensions) == (3, 50, True)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("status", "pending", "open or closed"),
        ("page", "0", "whole number from 1"),
        ("page_size", "1001", "up to 1000"),
        ("page_size", "ten", "whole number"),
        ("start_date", "yesterday", "w3 date and time"),
        ("updated_before", "2026-13-01", "w3 date and time"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(name: str, value: str, reason: str) -> None:
    with pytest.raises(Refused) as caught:
        read_query({name: [value]}, NOW)
    assert caught.value.status == 400
    assert any(p.startswith(f"{name}:") and reason in p for p in caught.value.descriptions("en"))


@pytest.mark.parametrize(
    ("raw", "moment"),
    [
        ("2010-01-01T00:00:00Z", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T08:00:00+08:00", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T08:00:00 08:00", datetime(2010, 1, 1, tzinfo=UTC)),  # '+' unencoded
        ("2010-01-01T08:00:00", datetime(2010, 1, 1, tzinfo=UTC)),  # local time
        ("2010-01-01", datetime(2009, 12, 31, 16, tzinfo=UTC)),  # local midnight
    ],
)
def test_w3_times_are_read_with_the_county_time_as_the_default(raw: str, moment: datetime) -> None:
    assert parse_w3(raw) == moment


# --- a service request ---------------------------------------------------------------------------


def record(**changes: object) -> CaseRecord:
    values: dict[str, object] = {
        "tracking_no": "20261201-000001",
        "status": "dispatched",
        "kind": "complaint",
        "channel": "web",
        "category": "教育文体",
        "description": "校车超载，请联系我 13812345678 或 wang@example.com",
        "department_name": "县教育局",
        "promised_date": date(2026, 12, 18),
        "submitted_at": datetime(2026, 12, 1, 1, 30, 15, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 1, 1, 31, tzinfo=UTC),
        "address": "越溪乡王家村",
        "lat": 29.3,
        "lon": 120.1,
        "media_url": None,
        "timeline": (
            Note(datetime(2026, 12, 1, 1, 30, tzinfo=UTC), "received", None),
            Note(datetime(2026, 12, 1, 1, 31, tzinfo=UTC), "dispatched", "县教育局"),
            Note(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), "supplemented", "我的电话 13812345678"),
        ),
    }
    values.update(changes)
    return CaseRecord(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "open311"),
    [
        ("received", "open"),
        ("awaiting_dispatch", "open"),
        ("dispatched", "open"),
        ("awaiting_citizen", "open"),
        ("resolved", "closed"),
        ("closed", "closed"),
        ("answered", "closed"),
        ("merged", "closed"),
        ("withdrawn", "closed"),
    ],
)
def test_the_lifecycle_maps_onto_open_and_closed(status: str, open311: str) -> None:
    assert open311_status(status) == open311


def test_a_case_becomes_a_service_request_without_personal_data() -> None:
    document = request_document(record(), "zh", extensions=False)
    assert document == {
        "service_request_id": "20261201-000001",
        "status": "open",
        "status_notes": "已派单：县教育局",
        "service_name": "教育文体",
        "service_code": service_code("教育文体"),
        "description": "校车超载，请联系我 138****5678 或 w***@example.com",
        "agency_responsible": "县教育局",
        "service_notice": "将于2026年12月18日前答复",
        "requested_datetime": "2026-12-01T09:30:15+08:00",
        "updated_datetime": "2026-12-01T09:31:00+08:00",
        "expected_datetime": "2026-12-18T23:59:59+08:00",
        "address": "越溪乡王家村",
        "address_id": None,
        "zipcode": None,
        "lat": 29.3,
        "long": 120.1,
        "media_url": None,
    }


def test_extensions_add_the_notes_without_what_the_citizen_added() -> None:
    document = request_document(record(), "zh", extensions=True)
    assert document["extended_attributes"] == {"channel": "web", "kind": "complaint"}
    assert document["notes"] == [
        {
            "datetime": "2026-12-01T09:30:00+08:00",
            "type": "received",
            "summary": "已受理",
            "description": "已受理",
        },
        {
            "datetime": "2026-12-01T09:31:00+08:00",
            "type": "dispatched",
            "summary": "已派单",
            "description": "县教育局",
        },
        {
            "datetime": "2026-12-02T09:00:00+08:00",
            "type": "supplemented",
            "summary": "补充材料",
            "description": "补充材料",
        },
    ]


def test_a_closed_case_has_no_pending_promise_and_an_unknown_status_reads_as_itself() -> None:
    timeline = (Note(NOW, "received", None), Note(NOW, "resolved", "已修好路灯"))
    document = request_document(
        record(status="resolved", timeline=timeline, category=None), "en", extensions=False
    )
    assert document["status"] == "closed"
    # Other channels add statuses and their labels; an unlabelled one reads as itself.
    label = STATUS_LABELS.get("resolved", "resolved")
    assert document["status_notes"] == f"{label}：已修好路灯"
    assert document["service_notice"] is None
    assert (document["service_code"], document["service_name"]) == (OTHER, "Other")


def test_times_carry_the_county_offset() -> None:
    assert w3_datetime(datetime(2026, 12, 31, 20, 0, 0, 999, tzinfo=UTC)) == (
        "2027-01-01T04:00:00+08:00"
    )
    assert expected_datetime(date(2026, 12, 18)) == "2026-12-18T23:59:59+08:00"
