"""The dispatch catalogue for admins: departments, territories, rules; an API and a page.

Every edit is one unit of work: the change, its audit row, and the catalogue.published event
that keeps intake's category list in step. A refusal raises, so the unit rolls back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from kombu.exceptions import OperationalError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from services.kernel.auth import Staff, require, staff_or_none
from services.kernel.bus import Bus
from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    DEPARTMENT_NAME_EN_MAX,
    DEPARTMENT_NAME_EN_PATTERN,
    DEPARTMENT_NAME_MAX,
    Kind,
    ScopeLevel,
)
from services.kernel.http import field_errors
from services.kernel.language import preferred_language
from services.kernel.pages import Pages, page_language
from services.kernel.workdays import local_date
from services.routing import catalogue, catalogue_cache
from services.routing.api import RoutingWork
from services.routing.auth_api import login_url
from services.routing.catalogue import CatalogueRefusal, DepartmentEntry, Liaison
from services.routing.dispatch import (
    DepartmentKind,
    DispatchRule,
    Territory,
    TerritoryLevel,
    effective_rules,
)
from services.routing.models import CatalogueChange, Department, DispatchRuleVersion
from services.routing.models import Territory as TerritoryRow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/catalogue", tags=["catalogue"])
page_router = APIRouter(include_in_schema=False)
pages = Pages(Path(__file__).with_name("templates"))
Admin = Annotated[Staff, Depends(require("admin"))]
Reader = Annotated[Staff, Depends(require("admin", "dispatcher", "supervisor"))]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
Word = Annotated[str, Field(min_length=1, max_length=50)]
# A mainland mobile or a landline with its area code; stored as given, shown only to admins.
Phone = Annotated[str, Field(pattern=r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")]


class LiaisonIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    phone: Phone


class DepartmentBody(BaseModel):
    # Short enough that an SMS naming the department fits one part (see notify's templates).
    name: Annotated[str, Field(min_length=1, max_length=DEPARTMENT_NAME_MAX)]
    name_en: Annotated[
        str,
        Field(min_length=1, max_length=DEPARTMENT_NAME_EN_MAX, pattern=DEPARTMENT_NAME_EN_PATTERN),
    ]
    kind: DepartmentKind = "functional"
    territory: Code | None = None
    categories: list[Word] = []
    keywords: list[Word] = []
    liaisons: list[LiaisonIn] = []

    def entry(self, code: str) -> DepartmentEntry:
        return DepartmentEntry(
            code=code,
            name=self.name,
            name_en=self.name_en,
            categories=tuple(self.categories),
            keywords=tuple(self.keywords),
            kind=self.kind,
            territory=self.territory,
            liaisons=tuple(Liaison(x.name, x.phone) for x in self.liaisons),
        )


class DepartmentIn(DepartmentBody):
    code: Code


class LiaisonOut(BaseModel):
    name: str
    phone: str | None = Field(description="admins only")


class DepartmentOut(BaseModel):
    code: str
    name: str
    name_en: str
    kind: str
    territory: str | None
    active: bool
    categories: list[str]
    keywords: list[str]
    liaisons: list[LiaisonOut]


class TerritoryBody(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    level: TerritoryLevel
    parent: Code | None = None

    def territory(self, code: str) -> Territory:
        return Territory(code, self.name, self.level, self.parent)


class TerritoryIn(TerritoryBody):
    code: Code


class TerritoryOut(TerritoryIn):
    active: bool


class RuleBody(BaseModel):
    kind: Kind | None = None
    category: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    territory: Code | None = None
    scope_level: ScopeLevel | None = None
    keywords: list[Word] = []
    lead_department: Code
    co_departments: list[Code] = []
    major: bool = False
    effective_from: date | None = Field(default=None, description="today if not given")
    effective_to: date | None = Field(default=None, description="the last day it applies")

    def rule(self, key: str) -> DispatchRule:
        return DispatchRule(
            key=key,
            version=0,
            lead=self.lead_department,
            co=tuple(self.co_departments),
            kind=self.kind,
            category=self.category,
            territory=self.territory,
            scope_level=self.scope_level,
            keywords=tuple(self.keywords),
            major=self.major,
            effective_from=self.effective_from or local_date(utcnow()),
            effective_to=self.effective_to,
        )


class RuleIn(RuleBody):
    key: Code


class RuleOut(RuleIn):
    version: int
    retired: bool
    created_by: str


class Retirement(BaseModel):
    effective_from: date | None = Field(default=None, description="today if not given")


class MajorKeywordsIn(BaseModel):
    keywords: list[Word]


class ChangeOut(BaseModel):
    at: str
    actor: str
    entity: str
    key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _refused(request: Request, refusal: CatalogueRefusal) -> HTTPException:
    language = preferred_language(request.headers.get("accept-language"))
    message = refusal.reason.text(language)
    if refusal.status == 422:
        detail: Any = [{"field": refusal.field, "message": message, "type": "value_error"}]
    else:
        detail = message
    return HTTPException(refusal.status, detail)


def _edit(request: Request, work: RoutingWork, change: Callable[[], object]) -> None:
    """Run one catalogue change, then republish the catalogue and drop the cached rules."""
    try:
        change()
    except CatalogueRefusal as refusal:
        raise _refused(request, refusal) from None
    _republish(work)


def _republish(work: RoutingWork) -> None:
    """Tell intake and notify the catalogue as it now stands; drop the cached rules on commit."""
    work.session.flush()
    work.publish(catalogue.published_catalogue(work.session))
    work.publish(catalogue.published_contacts(work.session, work.settings.secret_key))
    work.after_commit(catalogue_cache.forget)


def _department_out(work: RoutingWork, department: Department, staff: Staff) -> DepartmentOut:
    entry = catalogue.department_entry(work.session, department)
    see_phones = staff.has("admin")
    return DepartmentOut(
        code=entry.code,
        name=entry.name,
        name_en=entry.name_en,
        kind=entry.kind,
        territory=entry.territory,
        active=department.active,
        categories=list(entry.categories),
        keywords=list(entry.keywords),
        liaisons=[
            LiaisonOut(name=x.name, phone=x.phone if see_phones else None) for x in entry.liaisons
        ],
    )


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(work: RoutingWork, staff: Reader) -> list[DepartmentOut]:
    departments = work.session.scalars(select(Department).order_by(Department.code))
    return [_department_out(work, d, staff) for d in departments]


@router.post("/departments", status_code=201, response_model=DepartmentOut)
def create_department(
    body: DepartmentIn, request: Request, work: RoutingWork, staff: Admin
) -> DepartmentOut:
    _edit(
        request,
        work,
        lambda: catalogue.create_department(work.session, staff, body.entry(body.code)),
    )
    work.after_commit(lambda: _declare_queue(work.settings.broker_url, body.code))
    return _department_out(work, work.session.get_one(Department, body.code), staff)


@router.put("/departments/{code}", response_model=DepartmentOut)
def update_department(
    code: str, body: DepartmentBody, request: Request, work: RoutingWork, staff: Admin
) -> DepartmentOut:
    _edit(request, work, lambda: catalogue.update_department(work.session, staff, body.entry(code)))
    return _department_out(work, work.session.get_one(Department, code), staff)


@router.post("/departments/{code}/retire", response_model=DepartmentOut)
def retire_department(
    code: str, request: Request, work: RoutingWork, staff: Admin
) -> DepartmentOut:
    _edit(request, work, lambda: catalogue.retire_department(work.session, staff, code))
    return _department_out(work, work.session.get_one(Department, code), staff)


def _declare_queue(broker_url: str, code: str) -> None:
    """A new department's queue, so its first work order has somewhere to wait."""
    bus = Bus(broker_url)
    try:
        with bus.connect() as connection:
            bus.declare(connection, [bus.department_queue(code)])
    except (OSError, OperationalError):
        log.warning("department queue dept.%s not declared now; routing declares it at start", code)


@router.get("/territories", response_model=list[TerritoryOut])
def list_territories(work: RoutingWork, staff: Reader) -> list[TerritoryOut]:
    rows = work.session.scalars(select(TerritoryRow).order_by(TerritoryRow.code))
    return [
        TerritoryOut(code=r.code, name=r.name, level=r.level, parent=r.parent_code, active=r.active)
        for r in rows
    ]


def _territory_out(work: RoutingWork, code: str) -> TerritoryOut:
    r = work.session.get_one(TerritoryRow, code)
    return TerritoryOut(
        code=r.code, name=r.name, level=r.level, parent=r.parent_code, active=r.active
    )


@router.post("/territories", status_code=201, response_model=TerritoryOut)
def create_territory(
    body: TerritoryIn, request: Request, work: RoutingWork, staff: Admin
) -> TerritoryOut:
    _edit(
        request,
        work,
        lambda: catalogue.create_territory(work.session, staff, body.territory(body.code)),
    )
    return _territory_out(work, body.code)


@router.put("/territories/{code}", response_model=TerritoryOut)
def update_territory(
    code: str, body: TerritoryBody, request: Request, work: RoutingWork, staff: Admin
) -> TerritoryOut:
    _edit(
        request, work, lambda: catalogue.update_territory(work.session, staff, body.territory(code))
    )
    return _territory_out(work, code)


@router.post("/territories/{code}/retire", response_model=TerritoryOut)
def retire_territory(code: str, request: Request, work: RoutingWork, staff: Admin) -> TerritoryOut:
    _edit(request, work, lambda: catalogue.retire_territory(work.session, staff, code))
    return _territory_out(work, code)


def _rule_out(row: DispatchRuleVersion) -> RuleOut:
    return RuleOut(
        key=row.rule_key,
        version=row.version,
        kind=row.kind,
        category=row.category,
        territory=row.territory_code,
        scope_level=row.scope_level,
        keywords=row.keywords,
        lead_department=row.lead_department,
        co_departments=row.co_departments,
        major=row.major,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        retired=row.retired,
        created_by=row.created_by,
    )


@router.get("/rules", response_model=list[RuleOut])
def list_rules(work: RoutingWork, staff: Reader, on: date | None = None) -> list[RuleOut]:
    """Each rule's newest version; with `on`, the versions in force on that day."""
    rows = list(work.session.scalars(select(DispatchRuleVersion).order_by(DispatchRuleVersion.id)))
    if on is None:
        newest = {row.rule_key: row for row in sorted(rows, key=lambda r: r.version)}
        return [_rule_out(row) for row in sorted(newest.values(), key=lambda r: r.rule_key)]
    keep = {(r.key, r.version) for r in effective_rules(tuple(map(catalogue.as_rule, rows)), on)}
    return [_rule_out(row) for row in rows if (row.rule_key, row.version) in keep]


@router.get("/rules/{key}/versions", response_model=list[RuleOut])
def rule_history(key: str, work: RoutingWork, staff: Reader) -> list[RuleOut]:
    versions = catalogue.rule_versions(work.session, key)
    if not versions:
        raise HTTPException(404, "no such rule")
    return [_rule_out(row) for row in versions]


def _latest_out(work: RoutingWork, key: str) -> RuleOut:
    return _rule_out(catalogue.rule_versions(work.session, key)[-1])


@router.post("/rules", status_code=201, response_model=RuleOut)
def create_rule(body: RuleIn, request: Request, work: RoutingWork, staff: Admin) -> RuleOut:
    _edit(request, work, lambda: catalogue.create_rule(work.session, staff, body.rule(body.key)))
    return _latest_out(work, body.key)


@router.put("/rules/{key}", response_model=RuleOut)
def update_rule(
    key: str, body: RuleBody, request: Request, work: RoutingWork, staff: Admin
) -> RuleOut:
    """A new version of the rule, in force from its `effective_from`."""
    _edit(request, work, lambda: catalogue.update_rule(work.session, staff, body.rule(key)))
    return _latest_out(work, key)


@router.post("/rules/{key}/retire", response_model=RuleOut)
def retire_rule(
    key: str, body: Retirement, request: Request, work: RoutingWork, staff: Admin
) -> RuleOut:
    day = body.effective_from or local_date(utcnow())
    _edit(request, work, lambda: catalogue.retire_rule(work.session, staff, key, day))
    return _latest_out(work, key)


@router.put("/major-keywords", response_model=MajorKeywordsIn)
def set_major_keywords(
    body: MajorKeywordsIn, request: Request, work: RoutingWork, staff: Admin
) -> MajorKeywordsIn:
    _edit(
        request,
        work,
        lambda: catalogue.set_major_keywords(work.session, staff, tuple(body.keywords)),
    )
    return body


@router.get("/changes", response_model=list[ChangeOut])
def list_changes(work: RoutingWork, staff: Admin, limit: int = 100) -> list[ChangeOut]:
    """The audit, newest first."""
    rows = work.session.scalars(
        select(CatalogueChange).order_by(CatalogueChange.id.desc()).limit(min(limit, 1000))
    )
    return [
        ChangeOut(
            at=row.at.isoformat(),
            actor=row.actor_name,
            entity=row.entity,
            key=row.entity_key,
            action=row.action,
            before=row.before,
            after=row.after,
        )
        for row in rows
    ]


# The page: everything at a glance; add and retire rules, add territories.
PAGE = "/staff/catalogue"


@page_router.get(PAGE, response_class=HTMLResponse)
def catalogue_page(request: Request, work: RoutingWork) -> Response:
    staff = staff_or_none(request)
    if staff is None:
        return RedirectResponse(login_url(PAGE), status_code=303)
    return _page(request, work, staff)


def _page(
    request: Request,
    work: RoutingWork,
    staff: Staff,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if not staff.has("admin"):
        return pages.render(request, "catalogue/forbidden.html", {"staff": staff}, status_code=403)
    session = work.session
    departments = [
        _department_out(work, d, staff)
        for d in session.scalars(select(Department).order_by(Department.code))
    ]
    context = {
        "staff": staff,
        "departments": departments,
        "territories": list_territories(work, staff),
        "today": list_rules(work, staff, on=local_date(utcnow())),
        "changes": list_changes(work, staff, limit=30),
        "errors": errors or {},
        "values": values or {},
    }
    return pages.render(request, "catalogue/index.html", context, status_code=status_code)


def _page_edit(
    request: Request,
    work: RoutingWork,
    values: dict[str, str],
    change: Callable[[Staff], object],
) -> Response:
    """One edit from a form: re-shown with its errors if refused, else back to the page."""
    staff = staff_or_none(request)
    if staff is None:
        return RedirectResponse(login_url(PAGE), status_code=303)
    if not staff.has("admin"):
        return _page(request, work, staff)
    language = page_language(request)
    try:
        change(staff)
    except ValidationError as exc:
        errors = {e["field"]: e["message"] for e in field_errors(exc.errors(), language)}
        return _page(request, work, staff, errors, values, 422)
    except CatalogueRefusal as refusal:
        errors = {refusal.field: refusal.reason.text(language)}
        return _page(request, work, staff, errors, values, refusal.status)
    _republish(work)
    return RedirectResponse(PAGE, status_code=303)


@page_router.post(f"{PAGE}/rules", response_class=HTMLResponse)
def add_rule_from_page(
    request: Request,
    work: RoutingWork,
    key: Annotated[str, Form()] = "",
    lead_department: Annotated[str, Form()] = "",
    co_departments: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    keywords: Annotated[str, Form()] = "",
    scope_level: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    major: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "key": key,
        "lead_department": lead_department,
        "co_departments": co_departments,
        "category": category,
        "keywords": keywords,
        "scope_level": scope_level,
        "effective_from": effective_from,
    }

    def add(staff: Staff) -> None:
        body = RuleIn.model_validate(
            {
                "key": key.strip(),
                "lead_department": lead_department.strip(),
                "co_departments": co_departments.split(),
                "category": category.strip() or None,
                "keywords": keywords.split(),
                "scope_level": scope_level or None,
                "effective_from": effective_from or None,
                "major": bool(major),
            }
        )
        catalogue.create_rule(work.session, staff, body.rule(body.key))

    return _page_edit(request, work, values, add)


@page_router.post(PAGE + "/rules/{key}/retire", response_class=HTMLResponse)
def retire_rule_from_page(key: str, request: Request, work: RoutingWork) -> Response:
    today = local_date(utcnow())
    return _page_edit(
        request, work, {}, lambda staff: catalogue.retire_rule(work.session, staff, key, today)
    )


@page_router.post(f"{PAGE}/territories", response_class=HTMLResponse)
def add_territory_from_page(
    request: Request,
    work: RoutingWork,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
) -> Response:
    values = {"t_code": code, "t_name": name, "t_level": level, "t_parent": parent}

    def add(staff: Staff) -> None:
        body = TerritoryIn.model_validate(
            {"code": code.strip(), "name": name.strip(), "level": level, "parent": parent or None}
        )
        catalogue.create_territory(work.session, staff, body.territory(body.code))

    return _page_edit(request, work, values, add)
