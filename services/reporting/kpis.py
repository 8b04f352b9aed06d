"""The figures, computed from the read model.

Each KPI is one function below whose docstring is its definition; the README lists the same
words and `/api/v1/reports/kpis` describes its fields with them. A period runs from the start of
its first day to the end of its last, China Standard Time; "in the period" places a case by the
moment named in each definition, so one case may count in different periods for different KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.kernel.workdays import LOCAL_TZ
from services.reporting.models import CaseFact


@dataclass(frozen=True)
class Summary:
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]


def summary(session: Session) -> Summary:
    """Counts over every case reporting has seen submitted."""
    submitted = CaseFact.submitted_at.is_not(None)
    return Summary(
        total=session.scalar(select(func.count()).where(submitted)) or 0,
        by_channel=_count_by(session, CaseFact.channel, submitted),
        by_status=_count_by(session, CaseFact.status, submitted),
        by_department=_count_by(
            session, CaseFact.department_code, submitted, CaseFact.department_code.is_not(None)
        ),
    )


def _count_by(
    session: Session, column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(key): int(count) for key, count in rows}


@dataclass(frozen=True)
class Period:
    """The days `first` to `last`, both included, as days in China Standard Time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL_TZ)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL_TZ)

    def holds(self, moment: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return and_(moment >= self.start, moment < self.end)

    def before_end(self, moment: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return moment < self.end


@dataclass(frozen=True)
class Filters:
    """Only the cases with these values; None means any."""

    channel: str | None = None
    kind: str | None = None
    category: str | None = None
    department: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        wanted = (
            (CaseFact.channel, self.channel),
            (CaseFact.kind, self.kind),
            (CaseFact.category, self.category),
            (CaseFact.department_code, self.department),
        )
        return [column == value for column, value in wanted if value is not None]


Aggregate = ColumnElement[Any]


def _count(condition: ColumnElement[bool]) -> Aggregate:
    return func.count().filter(condition)


def _share(part: ColumnElement[bool], of: ColumnElement[bool]) -> Aggregate:
    # NULLIF: a rate over no cases is unknown, not zero.
    return cast(_count(and_(of, part)), Float) / func.nullif(_count(of), 0)


def received(p: Period) -> Aggregate:
    """Cases submitted in the period, through any channel."""
    return _count(p.holds(CaseFact.submitted_at))


def accepted(p: Period) -> Aggregate:
    """Cases a department first signed for (签收) in the period."""
    return _count(p.holds(CaseFact.accepted_at))


def answered_directly(p: Period) -> Aggregate:
    """Cases answered in the period without going to a department: on the call at intake, or
    by the dispatcher."""
    return _count(p.holds(CaseFact.answered_at))


def dispatched(p: Period) -> Aggregate:
    """Cases first given to a department in the period."""
    return _count(p.holds(CaseFact.dispatched_at))


def returned(p: Period) -> Aggregate:
    """Cases a department first sent back (退单) in the period."""
    return _count(p.holds(CaseFact.returned_at))


def resolved(p: Period) -> Aggregate:
    """Cases first resolved (办结) in the period; a re-handled case counts at its first
    resolution only."""
    return _count(p.holds(CaseFact.resolved_at))


def closed(p: Period) -> Aggregate:
    """Cases the dispatcher closed (结案) in the period."""
    return _count(p.holds(CaseFact.closed_at))


def backlog(p: Period) -> Aggregate:
    """Cases submitted before the end of the period and, at its end, not yet resolved,
    answered, closed or merged."""
    # Spelt out with IS NOT NULL: NOT over a NULL comparison would drop the open cases.
    finished = or_(
        *(
            and_(moment.is_not(None), p.before_end(moment))
            for moment in (
                CaseFact.resolved_at,
                CaseFact.answered_at,
                CaseFact.closed_at,
                CaseFact.merged_at,
            )
        )
    )
    return _count(and_(p.before_end(CaseFact.submitted_at), ~finished))


def on_time_rate(p: Period) -> Aggregate:
    """Of the cases resolved in the period that had a deadline, the share resolved on or before
    the deadline in force (a day in China Standard Time)."""
    return _share(
        CaseFact.resolved_on_time.is_(True),
        of=and_(p.holds(CaseFact.resolved_at), CaseFact.resolved_on_time.is_not(None)),
    )


def average_handling_hours(p: Period) -> Aggregate:
    """Of the cases resolved in the period, the mean time from submission to first resolution,
    in hours."""
    return func.avg(CaseFact.handling_seconds).filter(p.holds(CaseFact.resolved_at)) / 3600.0


def overdue(p: Period) -> Aggregate:
    """Cases whose deadline (any of their work orders') first passed unresolved in the
    period."""
    return _count(p.holds(CaseFact.overdue_at))


def urged(p: Period) -> Aggregate:
    """Cases first urged (催办) in the period, by the deadline scan or a supervisor."""
    return _count(p.holds(CaseFact.urged_at))


def supervised(p: Period) -> Aggregate:
    """Cases first put under supervision (督办) in the period: by the deadline scan, a
    supervisor, or too many re-handles."""
    return _count(p.holds(CaseFact.supervised_at))


def return_rate(p: Period) -> Aggregate:
    """Of the cases dispatched in the period, the share sent back at least once by the end of
    the period."""
    return _share(p.before_end(CaseFact.returned_at), of=p.holds(CaseFact.dispatched_at))


def rehandle_rate(p: Period) -> Aggregate:
    """Of the cases resolved in the period, the share a dissatisfied citizen has sent back for
    re-handling (重办) at least once so far."""
    return _share(CaseFact.rehandles > 0, of=p.holds(CaseFact.resolved_at))


def satisfaction_rate(p: Period) -> Aggregate:
    """Of the cases rated in the period, the share rated satisfied or basically satisfied."""
    return _share(CaseFact.satisfied.is_(True), of=p.holds(CaseFact.rated_at))


def response_rate(p: Period) -> Aggregate:
    """Of the cases dispatched in the period, the share a department had signed for by the end
    of the period."""
    return _share(p.before_end(CaseFact.accepted_at), of=p.holds(CaseFact.dispatched_at))


def resolution_rate(p: Period) -> Aggregate:
    """Of the cases dispatched in the period, the share resolved by the end of the period."""
    return _share(p.before_end(CaseFact.resolved_at), of=p.holds(CaseFact.dispatched_at))


def p90_handling_hours(session: Session, p: Period, f: Filters) -> float | None:
    """Of the cases resolved in the period, the time from submission to first resolution that
    nine in ten of them took no longer than (nearest rank), in hours."""
    times = select(CaseFact.handling_seconds).where(
        *f.conditions(), p.holds(CaseFact.resolved_at), CaseFact.handling_seconds.is_not(None)
    )
    count = session.scalar(select(func.count()).select_from(times.subquery())) or 0
    if count == 0:
        return None
    # Sorting in the database works on SQLite too, where there is no percentile function.
    rank = math.ceil(0.9 * count)
    seconds = session.scalar(times.order_by(CaseFact.handling_seconds).offset(rank - 1).limit(1))
    return None if seconds is None else seconds / 3600


COUNTS: tuple[Callable[[Period], Aggregate], ...] = (
    received,
    accepted,
    answered_directly,
    dispatched,
    returned,
    resolved,
    closed,
    backlog,
    overdue,
    urged,
    supervised,
)
MEASURES: tuple[Callable[[Period], Aggregate], ...] = (
    on_time_rate,
    average_handling_hours,
    return_rate,
    rehandle_rate,
    satisfaction_rate,
    response_rate,
    resolution_rate,
)
# What leaders are judged on (三率): each is one of the measures above.
LEADERS_RATES = (response_rate, resolution_rate, satisfaction_rate)
# Every KPI in the order the API and the README give them.
KPIS: tuple[Callable[..., Any], ...] = (
    *COUNTS,
    on_time_rate,
    average_handling_hours,
    p90_handling_hours,
    *MEASURES[2:],
)


def definition(kpi: Callable[..., Any]) -> str:
    """A KPI's definition: its docstring on one line."""
    return " ".join((kpi.__doc__ or "").split())


def _described(kpi: Callable[..., Any]) -> Any:
    return Field(description=definition(kpi))


class Figures(BaseModel):
    """Every KPI for one period and one set of filters; a rate over no cases is null."""

    received: int = _described(received)
    accepted: int = _described(accepted)
    answered_directly: int = _described(answered_directly)
    dispatched: int = _described(dispatched)
    returned: int = _described(returned)
    resolved: int = _described(resolved)
    closed: int = _described(closed)
    backlog: int = _described(backlog)
    overdue: int = _described(overdue)
    urged: int = _described(urged)
    supervised: int = _described(supervised)
    on_time_rate: float | None = _described(on_time_rate)
    average_handling_hours: float | None = _described(average_handling_hours)
    p90_handling_hours: float | None = _described(p90_handling_hours)
    return_rate: float | None = _described(return_rate)
    rehandle_rate: float | None = _described(rehandle_rate)
    satisfaction_rate: float | None = _described(satisfaction_rate)
    response_rate: float | None = _described(response_rate)
    resolution_rate: float | None = _described(resolution_rate)


def _number(value: Any, whole: bool) -> int | float | None:
    if value is None:
        return None
    return int(value) if whole else float(value)


def figures(session: Session, period: Period, filters: Filters) -> Figures:
    """Every KPI in one pass over the cases submitted before the period ends, plus one sorted
    read for the percentile: no step of a case comes before its submission."""
    kpis = (*COUNTS, *MEASURES)
    row = session.execute(
        select(*(kpi(period).label(kpi.__name__) for kpi in kpis)).where(
            *filters.conditions(), period.before_end(CaseFact.submitted_at)
        )
    ).one()
    values: dict[str, Any] = {
        kpi.__name__: _number(value, whole=kpi in COUNTS)
        for kpi, value in zip(kpis, row, strict=True)
    }
    values["p90_handling_hours"] = p90_handling_hours(session, period, filters)
    return Figures(**values)
