"""How each event changes a case's row: pure functions over the row, order-independent."""

from __future__ import annotations

from datetime import datetime

from services.kernel.events.contracts import (
    CaseAssigned,
    CaseMerged,
    CasePendingDispatch,
    CaseSubmitted,
)
from services.reporting.models import CaseFact

# Later stages win whatever order their events arrive in.
STATUS_ORDER = ("received", "awaiting_dispatch", "dispatched", "answered", "merged")

CaseEvent = CaseSubmitted | CaseAssigned | CasePendingDispatch | CaseMerged


def status_of(event: CaseEvent) -> str:
    if isinstance(event, CaseSubmitted):
        # A consultation answered on the call is closed at once and never dispatched.
        return "answered" if event.answered_directly else "received"
    if isinstance(event, CasePendingDispatch):
        return "awaiting_dispatch"
    if isinstance(event, CaseMerged):
        # Counted once, under "merged": the case it joined is the one counted as worked.
        return "merged"
    return "dispatched"


def apply(fact: CaseFact, event: CaseEvent, occurred_at: datetime) -> None:
    fact.tracking_no = event.tracking_no
    if isinstance(event, CaseSubmitted):
        fact.channel = event.channel
        fact.kind = event.kind
        fact.category = event.category
        fact.submitted_at = event.submitted_at
    elif isinstance(event, CaseAssigned):
        fact.department_code = event.department_code
        fact.department_name = event.department_name
    status = status_of(event)
    if fact.status is None or STATUS_ORDER.index(status) > STATUS_ORDER.index(fact.status):
        fact.status = status
    fact.updated_at = max(fact.updated_at or occurred_at, occurred_at)
