"""Where each case stands, as notify learns it from events: for the citizen's "JD" and rating."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAnswered,
    CaseAssigned,
    CaseClosed,
    CaseExtensionDecided,
    CaseMaterialRequested,
    CaseMerged,
    CasePendingDispatch,
    CaseRated,
    CaseRehandled,
    CaseResolved,
    CaseResumed,
    CaseReturned,
    CaseSubmitted,
    WorkOrderMoved,
)
from services.kernel.work import Work
from services.notify.handlers import subscriptions
from services.notify.models import CaseProgress

Followed = (
    CaseSubmitted
    | CasePendingDispatch
    | CaseAssigned
    | CaseAccepted
    | CaseMaterialRequested
    | CaseResumed
    | CaseExtensionDecided
    | CaseReturned
    | CaseAnswered
    | CaseResolved
    | CaseRated
    | CaseRehandled
    | CaseClosed
    | CaseMerged
)

# The status each event leaves the case in, as the citizen sees it; None leaves it as it is.
_STATUS: dict[type, str | None] = {
    CaseSubmitted: "received",
    CasePendingDispatch: "received",
    CaseReturned: "received",
    CaseAssigned: "dispatched",
    CaseAccepted: "handling",
    CaseResumed: "handling",
    CaseRehandled: "handling",
    CaseMaterialRequested: "awaiting_citizen",
    CaseExtensionDecided: None,
    CaseAnswered: "answered",
    CaseResolved: "resolved",
    CaseRated: "rated",
    CaseClosed: "closed",
    CaseMerged: "merged",
}


# The batch's cases' progress by case id, None where a case has none yet (session.info key).
_BATCH_PROGRESS = "notify.case_progress"


def progress_of(session: Session, events: Sequence[Followed]) -> list[CaseProgress]:
    """The batch's cases' progress in one query. Knowing which cases have none yet spares the
    handler a query per event, and with it a flush per event: new rows go in one INSERT."""
    wanted = {event.case_id for event in events}
    rows = list(session.scalars(select(CaseProgress).where(CaseProgress.case_id.in_(wanted))))
    known: dict[uuid.UUID, CaseProgress | None] = dict.fromkeys(wanted)
    known.update((row.case_id, row) for row in rows)
    session.info[_BATCH_PROGRESS] = known
    return rows


@subscriptions.subscribe(*_STATUS, preload=progress_of)
def follow_case_progress(event: Followed, work: Work) -> None:
    """Keep the case's latest status; an event older than the one that set it changes nothing."""
    assert work.envelope is not None
    # Only the lead department's order speaks for the case; co-handling works under it.
    if isinstance(event, WorkOrderMoved) and event.order_role != "lead":
        return
    occurred_at = work.envelope.occurred_at
    known: dict[uuid.UUID, CaseProgress | None] = work.session.info.get(_BATCH_PROGRESS, {})
    if event.case_id in known:
        progress = known[event.case_id]
    else:
        progress = work.session.get(CaseProgress, event.case_id)
    if progress is None:
        progress = CaseProgress(
            case_id=event.case_id,
            tracking_no=event.tracking_no,
            status="received",
            updated_at=occurred_at,
        )
        work.session.add(progress)
        # A later event of the batch for the same case finds it here, not yet flushed.
        known[event.case_id] = progress
    elif occurred_at < progress.updated_at:
        return
    status = _STATUS[type(event)]
    if isinstance(event, CaseSubmitted) and event.answered_directly:
        status = "answered"
    if status is not None:
        progress.status = status
    progress.updated_at = occurred_at
    department, deadline = _department_and_deadline(event)
    progress.department_name = department or progress.department_name
    progress.deadline = deadline or progress.deadline
    if isinstance(event, CaseMerged):
        progress.into_tracking_no = event.into_tracking_no


def _department_and_deadline(event: Followed) -> tuple[str | None, date | None]:
    if isinstance(event, CaseAssigned):
        return event.department_name, event.deadline
    if isinstance(event, CaseResolved):
        return event.department_name, None
    if isinstance(event, CaseExtensionDecided):
        return None, event.deadline
    if isinstance(event, CaseSubmitted):
        return None, event.promised_date
    return None, None
