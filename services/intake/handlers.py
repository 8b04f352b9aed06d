"""Intake keeps the citizen's view of each case current from routing's events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.models import Case, TimelineEntry
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import CaseAssigned, CasePendingDispatch
from services.kernel.work import Work

subscriptions = Subscriptions("intake")


def cases_of(session: Session, events: Sequence[CaseAssigned | CasePendingDispatch]) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.id.in_({e.case_id for e in events}))))


@subscriptions.subscribe(CaseAssigned, CasePendingDispatch, preload=cases_of)
def update_citizen_view(event: CaseAssigned | CasePendingDispatch, work: Work) -> None:
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    assert work.envelope is not None
    occurred_at = work.envelope.occurred_at
    if isinstance(event, CaseAssigned):
        status, note = "dispatched", event.department_name
        case.department_code = event.department_code
        case.department_name = event.department_name
    else:
        status, note = "awaiting_dispatch", None
    work.session.add(
        TimelineEntry(case_id=case.id, occurred_at=occurred_at, status=status, note=note)
    )
    if domain.advances(case.status, status):
        case.status = status
        case.updated_at = occurred_at
