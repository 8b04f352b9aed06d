"""Reading a period's bulletin and case list out of the read model.

Breakdowns group the KPIs of `kpis` by a column rather than define counts of their own, so a
channel's or a department's numbers add up to the bulletin's totals by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.reporting.bulletin.content import (
    Bulletin,
    DepartmentShare,
    Share,
    in_channel_order,
    top_departments,
    top_shares,
)
from services.reporting.kpis import (
    Aggregate,
    Filters,
    Period,
    dispatched,
    figures,
    received,
    resolved,
)
from services.reporting.models import CaseFact


def gather(session: Session, period: Period) -> Bulletin:
    """The bulletin of `period` as the read model stands now."""
    return Bulletin(
        first=period.first,
        last=period.last,
        figures=figures(session, period, Filters()).model_dump(),
        received_resolved=_received_resolved(session, period),
        by_channel=in_channel_order(_shares(session, period, CaseFact.channel, received(period))),
        top_categories=top_shares(_shares(session, period, CaseFact.category, received(period))),
        top_departments=top_departments(_departments(session, period)),
    )


def _shares(
    session: Session, period: Period, column: InstrumentedAttribute[Any], kpi: Aggregate
) -> list[Share]:
    rows = session.execute(
        select(column, kpi).where(period.before_end(CaseFact.submitted_at)).group_by(column)
    )
    return [Share(key=key, count=int(count)) for key, count in rows]


def _departments(session: Session, period: Period) -> list[DepartmentShare]:
    rows = session.execute(
        select(
            CaseFact.department_code,
            # A department renamed mid-period shows one name, whichever sorts last.
            func.max(CaseFact.department_name),
            dispatched(period),
            resolved(period),
        )
        .where(period.before_end(CaseFact.submitted_at), CaseFact.department_code.is_not(None))
        .group_by(CaseFact.department_code)
    )
    return [
        DepartmentShare(code=code, name=name, dispatched=int(sent), resolved=int(done))
        for code, name, sent, done in rows
    ]


def _received_resolved(session: Session, period: Period) -> int:
    found = session.scalar(
        select(func.count()).where(
            period.holds(CaseFact.submitted_at), period.before_end(CaseFact.resolved_at)
        )
    )
    return int(found or 0)


# The case list's columns: what a case is and where it went, never who raised it.
CASE_COLUMNS = (
    "tracking_no",
    "channel",
    "kind",
    "category",
    "department_code",
    "department_name",
    "status",
    "submitted_at",
    "dispatched_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "deadline",
    "resolved_on_time",
)
CaseCell = str | int | bool | date | datetime | None


def case_rows(session: Session, period: Period) -> Iterator[tuple[CaseCell, ...]]:
    """The cases submitted in the period, oldest first, as `CASE_COLUMNS`."""
    columns = [getattr(CaseFact, name) for name in CASE_COLUMNS]
    query = (
        select(*columns)
        .where(period.holds(CaseFact.submitted_at))
        .order_by(CaseFact.submitted_at, CaseFact.tracking_no)
        .execution_options(yield_per=1000)
    )
    for row in session.execute(query):
        yield tuple(row)
