"""How each event changes a case's row: pure functions over the row, order-independent.

Every rule below gives the same row whatever order a case's events arrive in: a step's time is
the earliest one seen, a value that can change (department, deadline) comes from the latest
event that set it, and counts only add. Counting each event once is the consumer's inbox's job.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import get_args

from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAnswered,
    CaseAssigned,
    CaseClosed,
    CaseExtensionDecided,
    CaseMerged,
    CaseOverdue,
    CasePendingDispatch,
    CaseRated,
    CaseRehandled,
    CaseResolved,
    CaseReturned,
    CaseRevisited,
    CaseSubmitted,
    CaseSupervised,
    CaseUrged,
    MessageDelivered,
    MessageFailed,
    MessageSent,
)
from services.kernel.workdays import local_date
from services.reporting.models import CaseFact, MessageFact
from services.reporting.places import township_and_village

# Later stages win whatever order their events arrive in.
STATUS_ORDER = (
    "received",
    "awaiting_dispatch",
    "dispatched",
    "accepted",
    "resolved",
    "answered",
    "closed",
    "merged",
)

CaseEvent = (
    CaseSubmitted
    | CaseAssigned
    | CasePendingDispatch
    | CaseMerged
    | CaseAccepted
    | CaseAnswered
    | CaseReturned
    | CaseResolved
    | CaseClosed
    | CaseRated
    | CaseRehandled
    | CaseOverdue
    | CaseUrged
    | CaseSupervised
    | CaseExtensionDecided
    | CaseRevisited
)

# What the handler subscribes to: the union above, so the two cannot drift apart.
CASE_EVENTS: tuple[type[CaseEvent], ...] = get_args(CaseEvent)

# The stage each event shows, CaseSubmitted aside; the events absent show no new stage.
_STAGE_OF: dict[type[CaseEvent], str] = {
    CasePendingDispatch: "awaiting_dispatch",
    # Counted once, under "merged": the case it joined is the one counted as worked.
    CaseMerged: "merged",
    CaseAssigned: "dispatched",
    CaseAccepted: "accepted",
    CaseResolved: "resolved",
    CaseAnswered: "answered",
    CaseClosed: "closed",
}

_MOVES_OF_THE_LEAD = (
    CaseAccepted,
    CaseAnswered,
    CaseReturned,
    CaseClosed,
    CaseExtensionDecided,
    CaseRevisited,
)


def blank(case_id: uuid.UUID) -> CaseFact:
    """A case's row before any event: counts at zero, so they can be added to at once."""
    return CaseFact(
        case_id=case_id,
        answered_directly=False,
        returns=0,
        rehandles=0,
        urges=0,
        supervisions=0,
        revisits=0,
    )


def status_of(event: CaseEvent) -> str | None:
    """The stage an event shows the case reached; None for events that show no new stage."""
    if isinstance(event, CaseSubmitted):
        # A consultation answered on the call is closed at once and never dispatched.
        return "answered" if event.answered_directly else "received"
    return _STAGE_OF.get(type(event))


def apply(fact: CaseFact, event: CaseEvent, occurred_at: datetime) -> None:
    """Fold one event into the case's row; `occurred_at` is the envelope's, for events whose
    payload carries no time of its own."""
    fact.tracking_no = event.tracking_no
    # A co-handling department's order moves on its own; the case's figures follow the lead's.
    of_the_case = not (isinstance(event, _MOVES_OF_THE_LEAD) and event.order_role == "co")
    if of_the_case:
        _record(fact, event, occurred_at)
    _derive(fact)
    status = status_of(event) if of_the_case else None
    if fact.status is None:
        fact.status = status or "received"
    elif status is not None and STATUS_ORDER.index(status) > STATUS_ORDER.index(fact.status):
        fact.status = status
    fact.updated_at = max(fact.updated_at or occurred_at, occurred_at)


def _record(fact: CaseFact, event: CaseEvent, occurred_at: datetime) -> None:
    if isinstance(event, CaseSubmitted):
        fact.channel = event.channel
        fact.kind = event.kind
        fact.category = event.category
        fact.submitted_at = event.submitted_at
        fact.answered_directly = event.answered_directly
        fact.scope_level = event.scope_level
        fact.township, fact.village = township_and_village(
            event.location.address if event.location else None
        )
        if event.first_contact is not None:
            fact.first_contact_id = event.first_contact.staff_id
            fact.first_contact_name = event.first_contact.name
        if event.answered_directly:
            fact.answered_at = _earliest(fact.answered_at, event.submitted_at)
    elif isinstance(event, CaseAssigned):
        fact.dispatched_at = _earliest(fact.dispatched_at, occurred_at)
        # After a return the case goes to another department: the latest assignment is the one.
        if fact.assigned_at is None or (occurred_at, event.department_code) > (
            fact.assigned_at,
            fact.department_code or "",
        ):
            fact.assigned_at = occurred_at
            fact.department_code = event.department_code
            fact.department_name = event.department_name
        _set_deadline(fact, event.deadline, occurred_at)
    elif isinstance(event, CaseExtensionDecided):
        _set_deadline(fact, event.deadline, event.occurred_at)
    elif isinstance(event, CaseAccepted):
        fact.accepted_at = _earliest(fact.accepted_at, event.occurred_at)
    elif isinstance(event, CaseAnswered):
        fact.answered_at = _earliest(fact.answered_at, event.occurred_at)
    elif isinstance(event, CaseReturned):
        fact.returns = (fact.returns or 0) + 1
        fact.returned_at = _earliest(fact.returned_at, event.occurred_at)
    elif isinstance(event, CaseResolved):
        # The first resolution: a re-handled case's later ones show in the re-handle count.
        fact.resolved_at = _earliest(fact.resolved_at, event.resolved_at)
    elif isinstance(event, CaseClosed):
        fact.closed_at = _earliest(fact.closed_at, event.occurred_at)
    elif isinstance(event, CaseMerged):
        fact.merged_at = _earliest(fact.merged_at, occurred_at)
    elif isinstance(event, CaseRated):
        if fact.rated_at is None or event.rated_at >= fact.rated_at:
            fact.rated_at = event.rated_at
            fact.rating = event.rating
            fact.satisfied = event.rating != "dissatisfied"
    elif isinstance(event, CaseRehandled):
        # The event carries the running total: taking the largest needs no order.
        fact.rehandles = max(fact.rehandles or 0, event.rehandles)
        if event.supervision:
            fact.supervised_at = _earliest(fact.supervised_at, event.occurred_at)
    elif isinstance(event, CaseOverdue):
        fact.overdue_at = _earliest(fact.overdue_at, event.due_at)
    elif isinstance(event, CaseUrged):
        fact.urges = (fact.urges or 0) + 1
        fact.urged_at = _earliest(fact.urged_at, event.occurred_at)
    elif isinstance(event, CaseRevisited):
        fact.revisits = (fact.revisits or 0) + 1
        fact.revisited_at = _earliest(fact.revisited_at, event.occurred_at)
    elif isinstance(event, CaseSupervised):
        fact.supervisions = (fact.supervisions or 0) + 1
        fact.supervised_at = _earliest(fact.supervised_at, event.occurred_at)


def _derive(fact: CaseFact) -> None:
    """The figures that need two facts, recomputed whenever either arrives."""
    if fact.resolved_at is not None and fact.deadline is not None:
        # The deadline is a date promised in China Standard Time.
        fact.resolved_on_time = local_date(fact.resolved_at) <= fact.deadline
    if fact.resolved_at is not None and fact.submitted_at is not None:
        fact.handling_seconds = (fact.resolved_at - fact.submitted_at).total_seconds()
    ends = [
        moment
        for moment in (fact.resolved_at, fact.answered_at, fact.closed_at, fact.merged_at)
        if moment is not None
    ]
    fact.finished_at = min(ends) if ends else None


def _set_deadline(fact: CaseFact, deadline: date, set_at: datetime) -> None:
    if fact.deadline_set_at is None or (set_at, deadline) > (
        fact.deadline_set_at,
        fact.deadline or deadline,
    ):
        fact.deadline_set_at = set_at
        fact.deadline = deadline


def _earliest(current: datetime | None, moment: datetime) -> datetime | None:
    return moment if current is None or moment < current else current


MessageEvent = MessageSent | MessageDelivered | MessageFailed


def apply_message(fact: MessageFact, event: MessageEvent, occurred_at: datetime) -> None:
    """Fold one of a message's events into its row: each step at the earliest time seen."""
    fact.case_id = fact.case_id or event.case_id
    fact.channel = event.channel
    if isinstance(event, MessageSent):
        fact.sent_at = _earliest(fact.sent_at, occurred_at)
    elif isinstance(event, MessageDelivered):
        fact.delivered_at = _earliest(fact.delivered_at, event.delivered_at)
    else:
        fact.failed_at = _earliest(fact.failed_at, event.failed_at)
