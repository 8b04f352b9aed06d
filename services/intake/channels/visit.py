"""Field visits: an official records a household visit or a village meeting.

Each problem raised becomes a case of its own on the visit channel, with the official as its
first contact; the visit and all its cases are recorded in one transaction, or none of them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.intake import domain
from services.intake.categories import category_names
from services.intake.channels.web import key_reused
from services.intake.deps import IntakeWork
from services.intake.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyReused,
    claim,
    fulfil,
    request_fingerprint,
)
from services.intake.models import Visit, VisitCase
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
from services.intake.submissions import Receipt, Submission, next_tracking_no, record
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
from services.kernel.language import InvalidValue, preferred_language
from services.kernel.pages import page_language
from services.kernel.work import Work
from services.kernel.workdays import local_date

router = APIRouter(tags=["intake"])
CHANNEL: Channel = "visit"
MAX_PROBLEMS = 20
# Room for the official's id (a UUID) in front of the key: `<staff id>/<key>`.
MAX_VISIT_KEY_LENGTH = MAX_KEY_LENGTH - 65
# Blank problem rows the page offers; more can be added by posting again.
PAGE_PROBLEM_ROWS = 5
# Visits are often written up some days later, but not months.
MAX_AGE = timedelta(days=60)
Official = Annotated[Staff, Depends(require("operator"))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProblemIn(_Strict):
    description: str = Field(min_length=1, max_length=5000)
    kind: Kind = "help"
    category: str | None = Field(default=None, min_length=1, max_length=64)
    urgency: Urgency = "normal"
    scope_level: ScopeLevel | None = None
    address: str | None = Field(
        default=None, min_length=1, max_length=500, description="where, if not the village itself"
    )
    contact_name: str | None = Field(
        default=None, min_length=1, max_length=50, description="who raised it, if not the head"
    )
    contact_phone: str | None = Field(default=None, max_length=20)

    @field_validator("contact_phone")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return domain.normalise_mobile(value) if value else None


class VisitIn(_Strict):
    type: Literal["household", "meeting"]
    township: str | None = Field(default=None, min_length=1, max_length=100)
    village: str = Field(min_length=1, max_length=100)
    visited_on: date
    household_head: str | None = Field(default=None, max_length=50, validate_default=True)
    participants: str | None = Field(
        default=None,
        max_length=2000,
        validate_default=True,
        description="the meeting's participants: names, or who they were",
    )
    problems: list[ProblemIn] = Field(max_length=MAX_PROBLEMS)

    @field_validator("problems")
    @classmethod
    def _some_problem(cls, problems: list[ProblemIn]) -> list[ProblemIn]:
        if not problems:
            raise InvalidValue("record at least one problem raised", "请至少填写一个反映的问题")
        return problems

    @field_validator("visited_on")
    @classmethod
    def _recent(cls, day: date) -> date:
        today = local_date(utcnow())
        if day > today:
            raise InvalidValue("must not be in the future", "不能晚于今天")
        if day < today - MAX_AGE:
            raise InvalidValue(
                f"must be within the last {MAX_AGE.days} days", f"须在最近 {MAX_AGE.days} 天内"
            )
        return day

    @field_validator("household_head")
    @classmethod
    def _head_of_household(cls, head: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == "household" and not head:
            raise InvalidValue("say whose household was visited", "请填写走访的户主")
        return head or None

    @field_validator("participants")
    @classmethod
    def _meeting_participants(cls, participants: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == "meeting" and not participants:
            raise InvalidValue("say who took part in the meeting", "请填写参会人员")
        return participants or None


class VisitCaseOut(BaseModel):
    tracking_no: str
    access_code: str | None = Field(
        default=None, description="given once, when the visit is recorded"
    )
    status: str
    status_label: str
    summary: str
    department: str | None


class VisitOut(BaseModel):
    id: uuid.UUID
    type: str
    township: str | None
    village: str
    visited_on: date
    household_head: str | None
    participants: str | None
    recorded_at: datetime
    cases: list[VisitCaseOut]


def record_visit_once(
    work: Work, body: VisitIn, staff: Staff, secret_key: str, key: str | None
) -> tuple[VisitOut, bool]:
    """Record the visit, or give the earlier answer for the official's key; True when repeated.

    An official in a village sends again when the signal drops before the answer comes: with
    the same key, that makes no second set of cases.
    """
    # Every tracking number first: each is reserved outside the request's transaction, which
    # must not have begun (see submissions.next_tracking_no). A repeat leaves them unused.
    numbers = [next_tracking_no(work) for _ in body.problems]
    if key is None:
        return record_visit(work, body, staff, secret_key, numbers), False
    # Scoped to the official: two officials' keys never meet.
    scoped = f"{staff.staff_id}/{key}"
    request_hash = request_fingerprint(secret_key, body.model_dump_json())
    earlier = claim(work, CHANNEL, scoped, request_hash, secret_key)
    if earlier is not None:
        return VisitOut.model_validate_json(earlier), True
    visit = record_visit(work, body, staff, secret_key, numbers)
    fulfil(work, CHANNEL, scoped, visit.model_dump_json(), secret_key)
    return visit, False


def record_visit(
    work: Work, body: VisitIn, staff: Staff, secret_key: str, numbers: Sequence[str]
) -> VisitOut:
    """The visit and one case per problem (tracking numbers reserved), in the caller's
    transaction."""
    first = FirstContact(staff_id=staff.staff_id, name=staff.name, unit=staff.unit)
    place = "".join(part for part in (body.township, body.village) if part)
    visit_id = uuid.uuid4()
    receipts: list[Receipt] = []
    for position, (problem, tracking_no) in enumerate(zip(body.problems, numbers, strict=True)):
        submission = Submission(
            channel=CHANNEL,
            kind=problem.kind,
            description=problem.description,
            category=problem.category,
            location=Location(address=problem.address or place),
            contact=Contact(
                name=problem.contact_name or body.household_head, phone=problem.contact_phone
            ),
            reference=f"visit:{visit_id}#{position + 1}",
            first_contact=first,
            urgency=problem.urgency,
            scope_level=problem.scope_level,
        )
        receipts.append(record(work, submission, secret_key, tracking_no))
    now = utcnow()
    work.session.add(
        Visit(
            id=visit_id,
            visit_type=body.type,
            household_head=body.household_head,
            participants=body.participants,
            township=body.township,
            village=body.village,
            visited_on=body.visited_on,
            official_id=staff.staff_id,
            official_name=staff.name,
            official_unit=staff.unit,
            recorded_at=now,
        )
    )
    work.session.flush()
    work.session.add_all(
        VisitCase(visit_id=visit_id, position=position, case_id=receipt.case_id)
        for position, receipt in enumerate(receipts)
    )
    return VisitOut(
        id=visit_id,
        type=body.type,
        township=body.township,
        village=body.village,
        visited_on=body.visited_on,
        household_head=body.household_head,
        participants=body.participants,
        recorded_at=now,
        cases=[
            VisitCaseOut(
                tracking_no=receipt.tracking_no,
                access_code=receipt.access_code,
                status=receipt.status,
                status_label=domain.STATUS_LABELS[receipt.status],
                summary=problem.description[:120],
                department=None,
            )
            for problem, receipt in zip(body.problems, receipts, strict=True)
        ],
    )


def visits_of(session: Session, staff: Staff, limit: int = 50) -> list[VisitOut]:
    rows = session.scalars(
        select(Visit)
        .where(Visit.official_id == staff.staff_id)
        .order_by(Visit.visited_on.desc(), Visit.recorded_at.desc())
        .limit(limit)
        .options(selectinload(Visit.cases).selectinload(VisitCase.case))
    )
    return [
        VisitOut(
            id=visit.id,
            type=visit.visit_type,
            township=visit.township,
            village=visit.village,
            visited_on=visit.visited_on,
            household_head=visit.household_head,
            participants=visit.participants,
            recorded_at=visit.recorded_at,
            cases=[
                VisitCaseOut(
                    tracking_no=link.case.tracking_no,
                    status=link.case.status,
                    status_label=domain.STATUS_LABELS[link.case.status],
                    summary=link.case.description[:120],
                    department=link.case.department_name,
                )
                for link in visit.cases
            ],
        )
        for visit in rows
    ]


@router.post(
    "/api/v1/visits",
    status_code=201,
    response_model=VisitOut,
    responses={422: {"description": "A field is invalid, or the Idempotency-Key was reused"}},
)
def record_field_visit(
    body: VisitIn,
    work: IntakeWork,
    settings: SettingsDep,
    staff: Official,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=MAX_VISIT_KEY_LENGTH),
    ] = None,
) -> VisitOut | JSONResponse:
    """Record a visit; each problem becomes a case with the official as its first contact.

    All or nothing: one bad problem (say `problems.2.description`) and nothing is recorded.
    Each case's access code is in this answer only, for the official to pass on. With an
    `Idempotency-Key`, sending the same visit again returns the first answer, marked
    `Idempotent-Replayed: true`, instead of recording it twice.
    """
    try:
        visit, replayed = record_visit_once(work, body, staff, settings.secret_key, idempotency_key)
    except IdempotencyKeyReused as exc:
        return key_reused(exc, preferred_language(request.headers.get("accept-language")))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return visit


@router.get("/api/v1/visits", response_model=list[VisitOut])
def list_my_visits(work: IntakeWork, staff: Official) -> list[VisitOut]:
    """The official's own visits, the latest first, with where each case now stands."""
    return visits_of(work.session, staff)


# The official's page.

_VISIT_FIELDS = ("type", "township", "village", "visited_on", "household_head", "participants")
_PROBLEM_FIELDS = (
    "description",
    "kind",
    "category",
    "urgency",
    "scope_level",
    "address",
    "contact_name",
    "contact_phone",
)


def _visit_form(fields: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The visit as posted, and which form row each problem came from (blank rows dropped)."""
    data = filled(fields, _VISIT_FIELDS)
    problems, rows = [], []
    for row in range(MAX_PROBLEMS):
        problem = filled(fields, [f"problems.{row}.{name}" for name in _PROBLEM_FIELDS])
        if problem.get(f"problems.{row}.description"):
            problems.append({key.rsplit(".", 1)[1]: value for key, value in problem.items()})
            rows.append(row)
    data["problems"] = problems
    return data, rows


def _form_errors(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Errors named after the form's rows, not the list of filled-in problems."""
    renamed = {}
    for field, message in errors.items():
        parts = field.split(".")
        if len(parts) > 2 and parts[0] == "problems" and parts[1].isdigit():
            parts[1] = str(rows[int(parts[1])])
        renamed[".".join(parts)] = message
    return renamed


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    result: VisitOut | None = None,
    status_code: int = 200,
) -> Response:
    values = dict(values or {})
    # Kept while the same visit is being corrected; a recorded visit's form gets a new one.
    values.setdefault("idempotency_key", secrets.token_urlsafe(24))
    values.setdefault("visited_on", local_date(utcnow()).isoformat())
    values.setdefault("type", "household")
    filled_rows = [
        r for r in range(MAX_PROBLEMS) if any(k.startswith(f"problems.{r}.") for k in values)
    ]
    rows = max([PAGE_PROBLEM_ROWS, *(r + 2 for r in filled_rows)])
    return pages.render(
        request,
        "staff/visits.html",
        {
            "staff": staff,
            "values": values,
            "errors": errors or {},
            "result": result,
            "rows": min(rows, MAX_PROBLEMS),
            "visits": visits_of(session, staff, 20),
            "categories": category_names(session.get_bind().engine),
            "kinds": KINDS,
            "urgencies": URGENCIES,
            "scope_levels": SCOPE_LEVELS,
            "local": local_time,
        },
        status_code=status_code,
    )


@router.get("/staff/visits", include_in_schema=False)
def visits_page(request: Request, work: IntakeWork) -> Response:
    """The official's page: record a visit, and the visits recorded so far."""
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    return _page(request, work.session, staff)


@router.post("/staff/visits", include_in_schema=False)
def visits_page_record(
    request: Request, work: IntakeWork, settings: SettingsDep, fields: Form
) -> Response:
    staff = signed_in(request, "operator")
    if not isinstance(staff, Staff):
        return staff
    data, rows = _visit_form(fields)
    try:
        body = VisitIn.model_validate(data)
    except ValidationError as exc:
        errors = _form_errors(errors_by_field(request, exc), rows)
        return _page(request, work.session, staff, values=fields, errors=errors, status_code=422)
    # The form's own key: pressing "record" again, or the browser resending, records it once.
    key = fields.get("idempotency_key") or None
    try:
        result, _ = record_visit_once(work, body, staff, settings.secret_key, key)
    except IdempotencyKeyReused as exc:
        # The form was recorded, then changed and sent again: a new key lets it be recorded.
        values = {k: v for k, v in fields.items() if k != "idempotency_key"}
        errors = {"idempotency_key": exc.text(page_language(request))}
        return _page(request, work.session, staff, values=values, errors=errors, status_code=422)
    return _page(request, work.session, staff, result=result)
