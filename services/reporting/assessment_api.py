"""The assessment over HTTP: the ranking, and each department's or official's points case by case.

Supervisors and admins see everyone; a supervisor who belongs to a department (its head) sees
that department's assessment only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from services.kernel.auth import Staff
from services.reporting.api import ReportingWork, ReportReader
from services.reporting.assessment import (
    Case,
    Earned,
    Ranked,
    Return,
    Rule,
    RuleScore,
    Score,
    Subject,
    assess,
    configured_rules,
    score,
    shown,
)
from services.reporting.kpis import Period
from services.reporting.models import CaseFact, CaseReturn
from services.reporting.period_query import PeriodOut, PeriodQuery

router = APIRouter(tags=["reporting"])

BASE = "/api/v1/reports/assessment"
# As the read model stores them.
DEPARTMENT_CODE_MAX = 40
OFFICIAL_ID_MAX = 64


class RuleOut(BaseModel):
    """A rule as the configuration gives it, with its definition in words."""

    id: str
    name: str
    name_en: str
    cases: str
    when: str
    points: float | None = Field(description="per case meeting the condition")
    weight: float | None = Field(description="the points for a rate of 100 %")
    per: Literal["case", "each"]
    cap: float | None
    applies_to: list[Subject]
    definition: str
    definition_zh: str


class RulePointsOut(BaseModel):
    rule: str
    points: float
    capped: bool
    looked_at: int = Field(description="the cases the rule looked at")
    met: int = Field(description="of them, those meeting its condition")


class Ranking(BaseModel):
    rank: int = Field(description="equal totals share a rank; the next one skips (1, 2, 2, 4)")
    name: str
    total: float
    rules: list[RulePointsOut]
    detail: str = Field(description="where each point's cases are listed")


class DepartmentRanking(Ranking):
    code: str


class OfficialRanking(Ranking):
    id: str


class AssessmentOut(BaseModel):
    period: PeriodOut
    rules: list[RuleOut]
    departments: list[DepartmentRanking]
    officials: list[OfficialRanking]


class CaseLinkOut(BaseModel):
    """A case behind a rule's points, with the fact that earned them."""

    tracking_no: str
    times: int = Field(description="how many times the case met the condition, as counted")
    points: float
    fact: str
    fact_zh: str
    details: dict[str, str | int | None]


class RuleDetailOut(BaseModel):
    rule: str
    name: str
    name_en: str
    definition: str
    definition_zh: str
    points: float
    uncapped_points: float
    capped: bool
    looked_at: int
    met: int
    rate: float | None = Field(description="for a rule weighing a rate: the share met")
    cases: list[CaseLinkOut]


class Detail(BaseModel):
    period: PeriodOut
    name: str
    total: float
    rules: list[RuleDetailOut]


class DepartmentDetail(Detail):
    code: str


class OfficialDetail(Detail):
    id: str


def _rule_out(rule: Rule) -> RuleOut:
    definition = rule.definition()
    return RuleOut(
        id=rule.id,
        name=rule.name,
        name_en=rule.name_en,
        cases=rule.cases,
        when=rule.when,
        points=rule.points,
        weight=rule.weight,
        per=rule.per,
        cap=rule.cap,
        applies_to=list(rule.applies_to),
        definition=definition.en,
        definition_zh=definition.zh,
    )


def _detail_url(subject: Subject, key: str, query: PeriodQuery) -> str:
    where = "departments" if subject == "department" else "officials"
    period = urlencode({"from": query.first.isoformat(), "to": query.last.isoformat()})
    return f"{BASE}/{where}/{quote(key, safe='')}?{period}"


def _ranking(ranked: Ranked, query: PeriodQuery) -> dict[str, Any]:
    s = ranked.score
    return {
        "rank": ranked.rank,
        "name": s.name,
        "total": shown(s.total),
        "rules": [
            RulePointsOut(
                rule=r.rule.id,
                points=shown(r.points),
                capped=r.capped,
                looked_at=r.looked_at,
                met=r.met,
            )
            for r in s.rules
        ],
        "detail": _detail_url(s.subject, s.key, query),
    }


def _departments(ranking: list[Ranked], query: PeriodQuery) -> list[DepartmentRanking]:
    return [DepartmentRanking(code=r.score.key, **_ranking(r, query)) for r in ranking]


def _officials(ranking: list[Ranked], query: PeriodQuery) -> list[OfficialRanking]:
    return [OfficialRanking(id=r.score.key, **_ranking(r, query)) for r in ranking]


def _case_out(earned: Earned) -> CaseLinkOut:
    return CaseLinkOut(
        tracking_no=earned.tracking_no,
        times=earned.times,
        points=shown(earned.points),
        fact=earned.fact.en,
        fact_zh=earned.fact.zh,
        details=earned.fact.details,
    )


def _rule_detail_out(r: RuleScore) -> RuleDetailOut:
    definition = r.rule.definition()
    return RuleDetailOut(
        rule=r.rule.id,
        name=r.rule.name,
        name_en=r.rule.name_en,
        definition=definition.en,
        definition_zh=definition.zh,
        points=shown(r.points),
        uncapped_points=shown(r.uncapped),
        capped=r.capped,
        looked_at=r.looked_at,
        met=r.met,
        rate=r.rate,
        cases=[_case_out(e) for e in r.cases],
    )


# Case's fields not read from case_facts: the returns come from case_returns, and `held` only
# tells the views the assessment makes of a case apart.
_NOT_IN_CASE_FACTS = frozenset({"returned_by", "held"})
# The read model's columns the assessment reads: Case's other fields carry the same names.
_CASE_COLUMNS = tuple(
    getattr(CaseFact, f.name) for f in fields(Case) if f.name not in _NOT_IN_CASE_FACTS
)


def cases_in_period(
    session: Session, rules: Sequence[Rule], period: Period, *where: ColumnElement[bool]
) -> list[Case]:
    """The cases some rule may look at in the period, each with who returned it: a few indexed
    reads, scored in Python."""
    moments = sorted({rule.population.moment for rule in rules})
    placed = or_(*(period.holds(getattr(CaseFact, moment)) for moment in moments))
    rows = session.execute(select(CaseFact.case_id, *_CASE_COLUMNS).where(placed, *where)).all()
    returns = returns_of(session, placed, *where)
    return [
        Case(
            **{name: value for name, value in row._asdict().items() if name != "case_id"},
            returned_by=returns.get(row.case_id, ()),
        )
        for row in rows
    ]


def returns_of(
    session: Session, *where: ColumnElement[bool]
) -> dict[uuid.UUID, tuple[Return, ...]]:
    """Who returned each case `where` picks, in the order they did. From case_returns, which has
    every return, lead or co-handling order alike, under the department that made it."""
    rows = session.execute(
        select(CaseReturn.case_id, CaseReturn.department_code)
        .join(CaseFact, CaseFact.case_id == CaseReturn.case_id)
        .where(*where)
        .order_by(CaseReturn.returned_at, CaseReturn.work_order_id)
    ).all()
    names = department_names(session, {code for _, code in rows if code is not None})
    found: dict[uuid.UUID, tuple[Return, ...]] = {}
    for case_id, code in rows:
        by = Return(code, None if code is None else names.get(code))
        found[case_id] = (*found.get(case_id, ()), by)
    return found


def department_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Each department's name as the case last assigned to it gives it. A department holding no
    case (one that only sent cases back) has none here: it is shown by its code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    latest = func.max(CaseFact.assigned_at)
    rows = session.execute(
        select(CaseFact.department_code, CaseFact.department_name)
        .where(CaseFact.department_code.in_(wanted), CaseFact.department_name.is_not(None))
        .group_by(CaseFact.department_code, CaseFact.department_name)
        # A renamed department has a row per name: the latest comes last and stays.
        .order_by(latest, CaseFact.department_name)
    )
    return {code: name for code, name in rows.tuples() if code is not None and name is not None}


def _held_or_returned_by(code: str) -> ColumnElement[bool]:
    """A department's cases: those it holds, and those it sent back (退单) to be sent on."""
    returned = select(CaseReturn.case_id).where(CaseReturn.department_code == code)
    return or_(CaseFact.department_code == code, CaseFact.case_id.in_(returned))


def _sees_everyone(staff: Staff) -> bool:
    # A supervisor tied to a department is its head: their own department only.
    return staff.has("admin") or staff.department_code is None


@router.get(BASE, response_model=AssessmentOut, response_model_by_alias=True)
def read_assessment(
    query: Annotated[PeriodQuery, Query()], work: ReportingWork, reader: ReportReader
) -> AssessmentOut:
    rules = configured_rules()
    period = query.period
    if _sees_everyone(reader):
        cases = cases_in_period(work.session, rules, period)
        officials = _officials(assess("official", rules, cases, period), query)
        departments = assess("department", rules, cases, period)
    else:
        assert reader.department_code is not None
        own = score(
            "department",
            reader.department_code,
            rules,
            cases_in_period(
                work.session, rules, period, _held_or_returned_by(reader.department_code)
            ),
            period,
        )
        # Ranked alone, as before: the other departments' share of these cases is not all of
        # theirs, so no rank among them would be true.
        departments = [] if own is None else [Ranked(1, own)]
        officials = []
    return AssessmentOut(
        period=PeriodOut.of(query.period),
        rules=[_rule_out(rule) for rule in rules],
        departments=_departments(departments, query),
        officials=officials,
    )


def _detail(subject: Subject, key: str, query: PeriodQuery, work: ReportingWork) -> Score:
    rules = configured_rules()
    theirs = (
        _held_or_returned_by(key) if subject == "department" else CaseFact.first_contact_id == key
    )
    cases = cases_in_period(work.session, rules, query.period, theirs)
    found = score(subject, key, rules, cases, query.period)
    if found is None:
        raise HTTPException(404, f"no {subject} {key!r} with cases assessed in this period")
    return found


def _detail_fields(found: Score, query: PeriodQuery) -> dict[str, Any]:
    return {
        "period": PeriodOut.of(query.period),
        "name": found.name,
        "total": shown(found.total),
        "rules": [_rule_detail_out(r) for r in found.rules],
    }


_NOT_YOURS = HTTPException(403, "a department's head sees their own department's assessment only")


@router.get(
    f"{BASE}/departments/{{code}}", response_model=DepartmentDetail, response_model_by_alias=True
)
def read_department_assessment(
    code: Annotated[str, Path(min_length=1, max_length=DEPARTMENT_CODE_MAX)],
    query: Annotated[PeriodQuery, Query()],
    work: ReportingWork,
    reader: ReportReader,
) -> DepartmentDetail:
    if not _sees_everyone(reader) and code != reader.department_code:
        raise _NOT_YOURS
    found = _detail("department", code, query, work)
    return DepartmentDetail(code=code, **_detail_fields(found, query))


@router.get(
    f"{BASE}/officials/{{official_id}}",
    response_model=OfficialDetail,
    response_model_by_alias=True,
)
def read_official_assessment(
    official_id: Annotated[str, Path(min_length=1, max_length=OFFICIAL_ID_MAX)],
    query: Annotated[PeriodQuery, Query()],
    work: ReportingWork,
    reader: ReportReader,
) -> OfficialDetail:
    if not _sees_everyone(reader):
        raise _NOT_YOURS
    found = _detail("official", official_id, query, work)
    return OfficialDetail(id=official_id, **_detail_fields(found, query))
