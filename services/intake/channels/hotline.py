"""The hotline: an operator records each call as a case, and stays accountable for it (首问负责).

A consultation answered on the call is closed at once; a caller with earlier cases is flagged
with them; missed calls wait on a callback list. The API serves the operator's softphone or
console; `/staff/hotline` is the page for a browser.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from services.intake import callbacks, domain, knowledge
from services.intake.categories import category_names
from services.intake.channels.web import LocationIn
from services.intake.deps import IntakeWork
from services.intake.idempotency import IdempotencyKeyReused, accept_once
from services.intake.models import (
    Callback,
    Case,
    HotlineCall,
    IdempotencyKey,
    KnowledgeEntry,
    TimelineEntry,
)
from services.intake.staff_pages import (
    KINDS,
    SCOPE_LEVELS,
    URGENCIES,
    Form,
    errors_by_field,
    filled,
    local_time,
    pages,
    signed_in,
)
from services.intake.submissions import ANSWERED, Submission
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    Channel,
    Contact,
    FirstContact,
    Kind,
    Location,
    ScopeLevel,
    Urgency,
)
from services.kernel.http import SettingsDep
from services.kernel.language import InvalidValue, Language, preferred_language
from services.kernel.pages import page_language
from services.kernel.work import Work
from services.kernel.workdays import LOCAL_TZ

router = APIRouter(tags=["intake"])
CHANNEL: Channel = "hotline"
# Earlier cases from the same number within this window flag a repeat caller.
REPEAT_WINDOW = timedelta(days=90)
MAX_EARLIER_CASES = 20
# The citizen's timeline keeps this much of an answer; the call's record keeps all of it.
TIMELINE_NOTE_LENGTH = 500
Operator = Annotated[Staff, Depends(require("operator"))]
_NUMBER_NOISE = re.compile(r"[\s\-()]")
_DIGITS = re.compile(r"^[0-9]{3,20}$")


def normalise_caller_number(raw: str) -> str:
    """A mobile number as intake keeps it, or any other number as its digits (a landline)."""
    try:
        return domain.normalise_mobile(raw)
    except InvalidValue:
        pass
    digits = _NUMBER_NOISE.sub("", unicodedata.normalize("NFKC", raw)).removeprefix("+")
    if not _DIGITS.match(digits):
        raise InvalidValue(
            "must be a phone number: 3 to 20 digits", "请填写电话号码：3 至 20 位数字"
        )
    return digits


def is_mobile(number: str | None) -> bool:
    """Whether a text message can reach this number."""
    if number is None:
        return False
    try:
        domain.normalise_mobile(number)
    except InvalidValue:
        return False
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallIn(_Strict):
    call_id: str = Field(
        min_length=1, max_length=100, description="the telephony system's id for the call"
    )
    caller_number: str | None = Field(
        default=None, max_length=30, description="null when the caller withheld it"
    )
    caller_name: str | None = Field(default=None, max_length=50)
    summary: str = Field(min_length=1, max_length=5000)
    kind: Kind
    category: str | None = Field(default=None, min_length=1, max_length=64)
    location: LocationIn | None = None
    urgency: Urgency = "normal"
    scope_level: ScopeLevel | None = None
    answered_directly: bool = Field(
        default=False, description="a consultation answered on the call: closed, not dispatched"
    )
    answer: str | None = Field(
        default=None, max_length=5000, validate_default=True, description="what the caller was told"
    )
    knowledge_entry_id: int | None = Field(
        default=None, ge=1, description="the knowledge-base entry the answer came from"
    )

    @field_validator("caller_number", "caller_name")
    @classmethod
    def _blank_is_none(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        return normalise_caller_number(value) if info.field_name == "caller_number" else value

    @field_validator("answered_directly")
    @classmethod
    def _only_consultations(cls, answered: bool, info: ValidationInfo) -> bool:
        if answered and info.data.get("kind", "consultation") != "consultation":
            raise InvalidValue(
                "only a consultation can be answered on the call", "只有咨询类诉求可以当场答复"
            )
        return answered

    @field_validator("answer")
    @classmethod
    def _answer_goes_with_answered(cls, answer: str | None, info: ValidationInfo) -> str | None:
        answered = info.data.get("answered_directly", False)
        if answered and not answer:
            raise InvalidValue("give the answer the caller was told", "请填写当场答复的内容")
        if answer and not answered:
            raise InvalidValue(
                "an answer goes with answered_directly: true", "只有当场答复时才填写答复内容"
            )
        return answer or None


class EarlierCase(BaseModel):
    tracking_no: str
    submitted_on: date
    channel: str
    kind: str
    status: str
    status_label: str
    summary: str


class CallAnswer(BaseModel):
    tracking_no: str
    access_code: str
    status: str
    promised_date: date
    sms_receipt: bool = Field(
        description="false: no text message reaches the caller; read them the tracking number"
    )
    repeat_caller: bool
    earlier_cases: list[EarlierCase]


class CallRefused(Exception):
    """The call cannot be recorded as given; nothing was written."""

    def __init__(self, field: str, reason: InvalidValue) -> None:
        super().__init__(reason.en)
        self.field = field
        self.reason = reason


def record_call(work: Work, call: CallIn, staff: Staff, secret_key: str) -> tuple[CallAnswer, bool]:
    """Record the call's case with the operator as first contact; True if it was a repeat."""
    _refuse_before_recording(work, call)
    mobile = call.caller_number if is_mobile(call.caller_number) else None
    submission = Submission(
        channel=CHANNEL,
        kind=call.kind,
        description=call.summary,
        category=call.category,
        location=Location(**call.location.model_dump()) if call.location else None,
        contact=Contact(name=call.caller_name, phone=mobile),
        reference=call.call_id,
        first_contact=FirstContact(staff_id=staff.staff_id, name=staff.name, unit=staff.unit),
        urgency=call.urgency,
        scope_level=call.scope_level,
        answered_directly=call.answered_directly,
    )
    try:
        receipt, replayed = accept_once(work, submission, secret_key, key=call.call_id)
    except IdempotencyKeyReused as exc:
        raise CallRefused("call_id", exc) from None
    session = work.session
    if not replayed:
        session.add(
            HotlineCall(
                call_id=call.call_id,
                case_id=receipt.case_id,
                # A tip-off's caller is known only sealed, never by a number kept in the clear.
                caller_number=None if submission.sealed else call.caller_number,
                operator_id=staff.staff_id,
                answer=call.answer,
                knowledge_entry_id=call.knowledge_entry_id,
                received_at=utcnow(),
            )
        )
        if call.answer:
            session.execute(
                update(TimelineEntry)
                .where(TimelineEntry.case_id == receipt.case_id, TimelineEntry.status == ANSWERED)
                .values(note=_shorten(call.answer, TIMELINE_NOTE_LENGTH))
            )
        if call.caller_number:
            callbacks.close_for_caller(session, call.caller_number, receipt.tracking_no)
    earlier = (
        earlier_cases(session, call.caller_number, receipt.case_id) if call.caller_number else []
    )
    answer = CallAnswer(
        tracking_no=receipt.tracking_no,
        access_code=receipt.access_code,
        status=receipt.status,
        promised_date=receipt.promised_date,
        sms_receipt=mobile is not None and not submission.sealed,
        repeat_caller=bool(earlier),
        earlier_cases=earlier,
    )
    return answer, replayed


def _refuse_before_recording(work: Work, call: CallIn) -> None:
    # On a connection of its own: the request's transaction must not start before the case's
    # tracking number is taken (see submissions.next_tracking_no).
    with Session(work.session.get_bind()) as peek:
        known = peek.get(HotlineCall, call.call_id)
        if known is not None and peek.get(IdempotencyKey, (CHANNEL, call.call_id)) is None:
            tracking_no = peek.get_one(Case, known.case_id).tracking_no
            raise CallRefused(
                "call_id",
                InvalidValue(
                    f"this call was recorded before, as case {tracking_no}",
                    f"这个来电已记录过，编号 {tracking_no}",
                ),
            )
        if call.knowledge_entry_id is not None and (
            peek.get(KnowledgeEntry, call.knowledge_entry_id) is None
        ):
            raise CallRefused(
                "knowledge_entry_id",
                InvalidValue("no knowledge-base entry with this id", "知识库中没有这个条目"),
            )


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def earlier_cases(session: Session, number: str, this_case: uuid.UUID) -> list[EarlierCase]:
    """The caller's other cases of the last 90 days, newest first, from any channel."""
    by_call = select(HotlineCall.case_id).where(HotlineCall.caller_number == number)
    rows = session.scalars(
        select(Case)
        .where(
            Case.id != this_case,
            Case.submitted_at >= utcnow() - REPEAT_WINDOW,
            or_(Case.contact_phone == number, Case.id.in_(by_call)),
        )
        .order_by(Case.submitted_at.desc())
        .limit(MAX_EARLIER_CASES)
    )
    return [
        EarlierCase(
            tracking_no=case.tracking_no,
            submitted_on=case.submitted_at.astimezone(LOCAL_TZ).date(),
            channel=case.channel,
            kind=case.kind,
            status=case.status,
            status_label=domain.STATUS_LABELS[case.status],
            summary=_shorten(case.description, 80),
        )
        for case in rows
    ]


def _refused(exc: CallRefused, language: Language) -> JSONResponse:
    error = {"field": exc.field, "message": exc.reason.text(language), "type": "call_refused"}
    return JSONResponse({"detail": [error]}, status_code=422)


@router.post(
    "/api/v1/hotline/calls",
    status_code=201,
    response_model=CallAnswer,
    responses={422: {"description": "A field is invalid, or the call id names another call"}},
)
def record_hotline_call(
    body: CallIn,
    work: IntakeWork,
    settings: SettingsDep,
    staff: Operator,
    request: Request,
    response: Response,
) -> CallAnswer | JSONResponse:
    """Record a call as a case, the operator as its first contact.

    The same call id again gives the first answer (`Idempotent-Replayed: true`), not a second
    case. A withheld number gets no text message: read the tracking number and access code to
    the caller. `repeat_caller` lists the number's cases of the last 90 days.
    """
    try:
        answer, replayed = record_call(work, body, staff, settings.secret_key)
    except CallRefused as exc:
        return _refused(exc, preferred_language(request.headers.get("accept-language")))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


class MyCase(BaseModel):
    tracking_no: str
    submitted_at: datetime
    kind: str
    urgency: str
    status: str
    status_label: str
    summary: str
    department: str | None
    promised_date: date
    answered_directly: bool


def my_cases(session: Session, staff: Staff, limit: int) -> list[MyCase]:
    rows = session.scalars(
        select(Case)
        .where(Case.first_contact_id == staff.staff_id, Case.channel == CHANNEL)
        .order_by(Case.submitted_at.desc())
        .limit(limit)
    )
    return [
        MyCase(
            tracking_no=case.tracking_no,
            submitted_at=case.submitted_at,
            kind=case.kind,
            urgency=case.urgency,
            status=case.status,
            status_label=domain.STATUS_LABELS[case.status],
            summary=_shorten(case.description, 120),
            department=case.department_name,
            promised_date=case.promised_date,
            answered_directly=case.answered_directly,
        )
        for case in rows
    ]


@router.get("/api/v1/hotline/my-cases", response_model=list[MyCase])
def list_my_cases(
    work: IntakeWork, staff: Operator, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[MyCase]:
    """The cases this operator took, newest first: they stay accountable for them."""
    return my_cases(work.session, staff, limit)


class MissedCallIn(_Strict):
    call_id: str = Field(min_length=1, max_length=100)
    caller_number: str = Field(min_length=1, max_length=30)
    missed_at: datetime | None = Field(
        default=None, description="when the call rang out; now if absent, China time if no zone"
    )

    @field_validator("caller_number")
    @classmethod
    def _number(cls, value: str) -> str:
        return normalise_caller_number(value)

    @field_validator("missed_at")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        moment = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
        if moment > utcnow() + timedelta(minutes=5):
            raise InvalidValue("must not be in the future", "不能晚于现在")
        return moment


class AttemptOut(BaseModel):
    attempted_at: datetime
    staff_name: str
    outcome: str
    note: str | None


class CallbackOut(BaseModel):
    id: int
    caller_number: str
    first_missed_at: datetime
    last_missed_at: datetime
    missed_calls: int
    attempts: list[AttemptOut]
    closed_at: datetime | None
    closed_reason: str | None


def callback_out(entry: Callback) -> CallbackOut:
    return CallbackOut(
        id=entry.id,
        caller_number=entry.caller_number,
        first_missed_at=entry.first_missed_at,
        last_missed_at=entry.last_missed_at,
        missed_calls=entry.missed_calls,
        attempts=[
            AttemptOut(
                attempted_at=a.attempted_at, staff_name=a.staff_name, outcome=a.outcome, note=a.note
            )
            for a in entry.attempts
        ],
        closed_at=entry.closed_at,
        closed_reason=entry.closed_reason,
    )


@router.post("/api/v1/hotline/missed-calls", status_code=201, response_model=CallbackOut)
def report_missed_call(
    body: MissedCallIn, work: IntakeWork, _staff: Operator, response: Response
) -> CallbackOut:
    """A call nobody answered: its caller goes on the callback list.

    Posted by the telephony system (with an operator account of its own) or by an operator. The
    same call id again changes nothing (200); the caller's further missed calls count on the
    same entry while it is open.
    """
    entry, new = callbacks.record_missed_call(
        work.session, body.call_id, body.caller_number, body.missed_at or utcnow()
    )
    if not new:
        response.status_code = 200
    return callback_out(entry)


@router.get("/api/v1/hotline/callbacks", response_model=list[CallbackOut])
def list_callbacks(work: IntakeWork, _staff: Operator) -> list[CallbackOut]:
    """Callers waiting for a call back, the longest waiting first."""
    return [callback_out(entry) for entry in callbacks.open_callbacks(work.session)]


class AttemptIn(_Strict):
    outcome: callbacks.Outcome
    note: str | None = Field(default=None, max_length=500)


@router.post(
    "/api/v1/hotline/callbacks/{callback_id}/attempts", status_code=201, response_model=CallbackOut
)
def record_callback_attempt(
    callback_id: int, body: AttemptIn, work: IntakeWork, staff: Operator
) -> CallbackOut:
    """A try at calling back; `reached` takes the caller off the list."""
    entry = work.session.get(Callback, callback_id)
    if entry is None:
        raise HTTPException(404, "no callback with that id")
    callbacks.record_attempt(work.session, entry, staff, body.outcome, body.note or None)
    work.session.flush()
    work.session.refresh(entry, ["attempts"])
    return callback_out(entry)


# The operator's page.

_CALL_FIELDS = (
    "call_id",
    "caller_number",
    "caller_name",
    "summary",
    "kind",
    "category",
    "urgency",
    "scope_level",
    "answer",
    "knowledge_entry_id",
)


def _call_form(fields: dict[str, str]) -> dict[str, Any]:
    data = filled(fields, _CALL_FIELDS)
    if fields.get("location.address"):
        data["location"] = {"address": fields["location.address"]}
    data["answered_directly"] = fields.get("answered_directly") == "on"
    return data


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    result: CallAnswer | None = None,
    query: str = "",
    status_code: int = 200,
) -> Response:
    values = dict(values or {})
    values.setdefault("call_id", f"page-{uuid.uuid4()}")
    found = knowledge.search(session, query, 8) if query else []
    return pages.render(
        request,
        "staff/hotline.html",
        {
            "staff": staff,
            "values": values,
            "errors": errors or {},
            "result": result,
            "query": query,
            "found": found,
            "callbacks": callbacks.open_callbacks(session),
            "my_cases": my_cases(session, staff, 20),
            "categories": category_names(session.get_bind().engine),
            "kinds": KINDS,
            "urgencies": URGENCIES,
            "scope_levels": SCOPE_LEVELS,
            "local": local_time,
        },
        status_code=status_code,
    )


@router.get("/staff/hotline", include_in_schema=False)
def hotline_page(request: Request, work: IntakeWork, callback: int | None = None) -> Response:
    """The operator's page: record a call, the callback list, my cases."""
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    values = {}
    entry = work.session.get(Callback, callback) if callback is not None else None
    if entry is not None:
        # Calling a missed caller back: the call form starts with their number.
        values["caller_number"] = entry.caller_number
    return _page(request, work.session, staff, values=values)


@router.post("/staff/hotline/calls", include_in_schema=False)
def hotline_page_call(
    request: Request, work: IntakeWork, settings: SettingsDep, fields: Form
) -> Response:
    """The page's call form: search the knowledge base, take an answer from it, or record."""
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    query = fields.get("q", "")
    action = fields.get("action", "record")
    if action.startswith("use:"):
        # Take a knowledge-base answer: the call becomes a consultation answered on the call.
        entry = work.session.get(KnowledgeEntry, int(action[4:]) if action[4:].isdigit() else 0)
        if entry is not None:
            fields = {
                **fields,
                "answer": entry.answer,
                "knowledge_entry_id": str(entry.id),
                "answered_directly": "on",
                "kind": "consultation",
            }
        return _page(request, work.session, staff, values=fields, query=query)
    if action == "search":
        return _page(request, work.session, staff, values=fields, query=query)
    try:
        call = CallIn.model_validate(_call_form(fields))
    except ValidationError as exc:
        errors = errors_by_field(request, exc)
        return _page(
            request, work.session, staff, values=fields, errors=errors, query=query, status_code=422
        )
    try:
        result, _ = record_call(work, call, staff, settings.secret_key)
    except CallRefused as exc:
        errors = {exc.field: exc.reason.text(page_language(request))}
        return _page(request, work.session, staff, values=fields, errors=errors, status_code=422)
    return _page(request, work.session, staff, result=result)


@router.post("/staff/hotline/missed-calls", include_in_schema=False)
def hotline_page_missed_call(request: Request, work: IntakeWork, fields: Form) -> Response:
    """A missed call noted by hand: the caller goes on the callback list."""
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    try:
        body = MissedCallIn(
            call_id=f"page-{uuid.uuid4()}", caller_number=fields.get("caller_number", "")
        )
    except ValidationError as exc:
        errors = {f"missed.{k}": v for k, v in errors_by_field(request, exc).items()}
        return _page(request, work.session, staff, errors=errors, status_code=422)
    callbacks.record_missed_call(work.session, body.call_id, body.caller_number, utcnow())
    return RedirectResponse("/staff/hotline#callbacks", status_code=303)


@router.post("/staff/hotline/callbacks/{callback_id}/attempts", include_in_schema=False)
def hotline_page_attempt(
    callback_id: int, request: Request, work: IntakeWork, fields: Form
) -> Response:
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    entry = work.session.get(Callback, callback_id)
    outcome: Literal["reached", "no-answer"] = (
        "reached" if fields.get("outcome") == "reached" else "no-answer"
    )
    if entry is not None:
        note = fields.get("note", "")[:500] or None
        callbacks.record_attempt(work.session, entry, staff, outcome, note)
    return RedirectResponse("/staff/hotline#callbacks", status_code=303)
