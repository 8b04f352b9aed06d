"""The figures, computed from the read model.

Each KPI is one function below whose docstring is its definition; the README lists the same
words and `/api/v1/reports/kpis` describes its fields with them. A period runs from the start of
its first day to the end of its last, China Standard Time; "in the period" places a case by the
moment named in each definition, so one case may count in different periods for different KPIs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Float, and_, cast, extract, func, literal, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.kernel.workdays import LOCAL_TZ
from services.reporting.models import CaseFact, MessageFact


@dataclass(frozen=True)
class Summary:
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]


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
    township: str | None = None
    village: str | None = None
    scope_level: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        wanted = (
            (CaseFact.channel, self.channel),
            (CaseFact.kind, self.kind),
            (CaseFact.category, self.category),
            (CaseFact.department_code, self.department),
            (CaseFact.township, self.township),
            (CaseFact.village, self.village),
            (CaseFact.scope_level, self.scope_level),
        )
        return [column == value for column, value in wanted if value is not None]

    @property
    def any(self) -> bool:
        return bool(self.conditions())


def _without_jit(session: Session) -> None:
    """For this transaction only, no JIT compilation on PostgreSQL: over a large read model
    the planner turns it on for these aggregates, and compiling them took most of a month's
    query time (250 ms of 340 ms) for nothing gained at run time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def summary(session: Session, period: Period | None = None) -> Summary:
    """Counts over every case reporting has seen submitted, or those submitted in `period`."""
    _without_jit(session)
    submitted = (
        CaseFact.submitted_at.is_not(None)
        if period is None
        else period.holds(CaseFact.submitted_at)
    )
    # One pass grouped by all three, summed here: a county has a few hundred combinations at
    # most, and every scrape of /metrics pays for this query.
    rows = session.execute(
        select(CaseFact.channel, CaseFact.status, CaseFact.department_code, func.count())
        .where(submitted)
        .group_by(CaseFact.channel, CaseFact.status, CaseFact.department_code)
    ).all()
    by_channel: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    for channel, status, department, count in rows:
        by_channel[str(channel)] += count
        by_status[str(status)] += count
        if department is not None:
            by_department[str(department)] += count
    return Summary(
        total=sum(by_status.values()),
        by_channel=dict(by_channel),
        by_status=dict(by_status),
        by_department=dict(by_department),
    )


Aggregate = ColumnElement[Any]


# The moments at which a case stops being open; the first of them is its `finished_at`.
_ENDS = (CaseFact.resolved_at, CaseFact.answered_at, CaseFact.closed_at, CaseFact.merged_at)
# Every moment a count or rate places a case by.
_MOMENTS = (
    CaseFact.submitted_at,
    CaseFact.accepted_at,
    CaseFact.answered_at,
    CaseFact.dispatched_at,
    CaseFact.returned_at,
    CaseFact.resolved_at,
    CaseFact.closed_at,
    CaseFact.overdue_at,
    CaseFact.urged_at,
    CaseFact.supervised_at,
    CaseFact.rated_at,
)


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


def _in_backlog(p: Period) -> ColumnElement[bool]:
    # Spelt out with IS NOT NULL: NOT over a NULL comparison would drop the open cases.
    finished = or_(*(and_(moment.is_not(None), p.before_end(moment)) for moment in _ENDS))
    return and_(p.before_end(CaseFact.submitted_at), ~finished)


def backlog(p: Period) -> Aggregate:
    """Cases submitted before the end of the period and, at its end, not yet resolved,
    answered, closed or merged."""
    return _count(_in_backlog(p))


def _days_before_end(p: Period, epoch_seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    return (literal(p.end.timestamp()) - epoch_seconds) / 86400.0


def backlog_average_age_days(p: Period) -> Aggregate:
    """Of the backlog at the end of the period, the mean time since submission at that
    moment, in days."""
    seconds = extract("epoch", CaseFact.submitted_at)
    return _days_before_end(p, func.avg(seconds).filter(_in_backlog(p)))


def backlog_oldest_age_days(p: Period) -> Aggregate:
    """Of the backlog at the end of the period, the time since submission of the case
    waiting longest, at that moment, in days."""
    seconds = extract("epoch", CaseFact.submitted_at)
    return _days_before_end(p, func.min(seconds).filter(_in_backlog(p)))


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


def p90_handling_hours(p: Period) -> Aggregate:
    """Of the cases resolved in the period, the time from submission to first resolution that
    nine in ten of them took no longer than (nearest rank), in hours."""
    # The discrete percentile is the nearest rank. PostgreSQL only; `_p90_by_rank` elsewhere.
    seconds = func.percentile_disc(0.9).within_group(CaseFact.handling_seconds.asc())
    return seconds.filter(p.holds(CaseFact.resolved_at)) / 3600.0


def _p90_by_rank(session: Session, p: Period, f: Filters) -> float | None:
    """`p90_handling_hours` where the database has no percentile (SQLite): the same rank,
    read from the sorted times."""
    times = select(CaseFact.handling_seconds).where(
        *f.conditions(), p.holds(CaseFact.resolved_at), CaseFact.handling_seconds.is_not(None)
    )
    count = session.scalar(select(func.count()).select_from(times.subquery())) or 0
    if count == 0:
        return None
    rank = math.ceil(0.9 * count)
    seconds = session.scalar(times.order_by(CaseFact.handling_seconds).offset(rank - 1).limit(1))
    return None if seconds is None else seconds / 3600


def messages_sent(p: Period) -> Aggregate:
    """Messages (SMS or email) handed to a gateway in the period; under filters, only those
    about the cases they select."""
    return _count(p.holds(MessageFact.sent_at))


def messages_delivered(p: Period) -> Aggregate:
    """Messages whose receipt says they reached the citizen in the period, whenever they were
    sent; under filters, only those about the cases they select."""
    return _count(p.holds(MessageFact.delivered_at))


def delivery_rate(p: Period) -> Aggregate:
    """Of the messages sent in the period, the share that had reached the citizen by the end of
    the period."""
    return _share(p.before_end(MessageFact.delivered_at), of=p.holds(MessageFact.sent_at))


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
    backlog_average_age_days,
    backlog_oldest_age_days,
    on_time_rate,
    average_handling_hours,
    return_rate,
    rehandle_rate,
    satisfaction_rate,
    response_rate,
    resolution_rate,
)
MESSAGE_COUNTS: tuple[Callable[[Period], Aggregate], ...] = (messages_sent, messages_delivered)
MESSAGE_MEASURES: tuple[Callable[[Period], Aggregate], ...] = (delivery_rate,)
# What leaders are judged on (三率): each is one of the measures above.
LEADERS_RATES = (response_rate, resolution_rate, satisfaction_rate)
# Every KPI in the order the API and the README give them.
KPIS: tuple[Callable[..., Any], ...] = (
    *COUNTS,
    *MEASURES[:4],
    p90_handling_hours,
    *MEASURES[4:],
    *MESSAGE_COUNTS,
    *MESSAGE_MEASURES,
)


def definition(kpi: Callable[..., Any]) -> str:
    """A KPI's definition: its docstring on one line."""
    return " ".join((kpi.__doc__ or "").split())


def _described(kpi: Callable[..., Any]) -> Any:
    return Field(description=definition(kpi))


class Figures(BaseModel):
    """Every KPI for one period and one set of filters; a rate or age over no cases is null."""

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
    backlog_average_age_days: float | None = _described(backlog_average_age_days)
    backlog_oldest_age_days: float | None = _described(backlog_oldest_age_days)
    on_time_rate: float | None = _described(on_time_rate)
    average_handling_hours: float | None = _described(average_handling_hours)
    p90_handling_hours: float | None = _described(p90_handling_hours)
    return_rate: float | None = _described(return_rate)
    rehandle_rate: float | None = _described(rehandle_rate)
    satisfaction_rate: float | None = _described(satisfaction_rate)
    response_rate: float | None = _described(response_rate)
    resolution_rate: float | None = _described(resolution_rate)
    messages_sent: int = _described(messages_sent)
    messages_delivered: int = _described(messages_delivered)
    delivery_rate: float | None = _described(delivery_rate)


def _number(value: Any, whole: bool) -> int | float | None:
    if value is None:
        return None
    return int(value) if whole else float(value)


def may_count(p: Period) -> ColumnElement[bool]:
    """The cases that can count in any KPI for the period: one of their moments falls in it,
    or they were still open at its start (so may be in the backlog at its end).

    Every other case was finished before the period began and did nothing during it; leaving
    it out changes no figure, and over a year of cases it is most of them.
    """
    return or_(
        CaseFact.finished_at.is_(None),
        CaseFact.finished_at >= p.start,
        *(p.holds(moment) for moment in _MOMENTS),
    )


def _pass(
    session: Session,
    kpis: tuple[Callable[[Period], Aggregate], ...],
    counts: tuple[Callable[[Period], Aggregate], ...],
    period: Period,
    *where: ColumnElement[bool],
) -> dict[str, Any]:
    row = session.execute(
        select(*(kpi(period).label(kpi.__name__) for kpi in kpis)).where(*where)
    ).one()
    return {
        kpi.__name__: _number(value, whole=kpi in counts)
        for kpi, value in zip(kpis, row, strict=True)
    }


def _messages_of(filters: Filters) -> list[ColumnElement[bool]]:
    """Messages about the selected cases; every message when no filter is set."""
    if not filters.any:
        return []
    selected = select(CaseFact.case_id).where(*filters.conditions())
    return [MessageFact.case_id.in_(selected)]


def figures(session: Session, period: Period, filters: Filters) -> Figures:
    """Every KPI: one pass over the cases that may count in the period (no step of a case
    comes before its submission), one over the messages touched in it, and on SQLite one
    sorted read for the percentile."""
    _without_jit(session)
    percentile_in_pass = session.get_bind().dialect.name == "postgresql"
    cases = _pass(
        session,
        (*COUNTS, *MEASURES, *((p90_handling_hours,) if percentile_in_pass else ())),
        COUNTS,
        period,
        *filters.conditions(),
        period.before_end(CaseFact.submitted_at),
        may_count(period),
    )
    if not percentile_in_pass:
        cases["p90_handling_hours"] = _p90_by_rank(session, period, filters)
    messages = _pass(
        session,
        (*MESSAGE_COUNTS, *MESSAGE_MEASURES),
        MESSAGE_COUNTS,
        period,
        *_messages_of(filters),
        or_(period.holds(MessageFact.sent_at), period.holds(MessageFact.delivered_at)),
    )
    return Figures(**cases, **messages)
