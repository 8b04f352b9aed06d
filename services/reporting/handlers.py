"""Reporting's projections, fed by the case events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.consumer import Subscriptions
from services.kernel.events.contracts import (
    CaseReturned,
    MessageDelivered,
    MessageFailed,
    MessageSent,
)
from services.kernel.work import Work
from services.reporting.models import CaseFact, CaseReturn, MessageFact
from services.reporting.projections import (
    CASE_EVENTS,
    CaseEvent,
    MessageEvent,
    apply,
    apply_message,
    blank,
)

subscriptions = Subscriptions("reporting")


def lock_facts(session: Session, events: Sequence[CaseEvent]) -> list[CaseFact]:
    """The batch's rows, locked: another reporting process may be applying the same case."""
    wanted = {e.case_id for e in events}
    return list(
        session.scalars(select(CaseFact).where(CaseFact.case_id.in_(wanted)).with_for_update())
    )


@subscriptions.subscribe(*CASE_EVENTS, preload=lock_facts)
def case_facts(event: CaseEvent, work: Work) -> None:
    assert work.envelope is not None
    # Already in the session, locked, if it exists (lock_facts).
    fact = work.session.get(CaseFact, event.case_id)
    if fact is None:
        fact = blank(event.case_id)
        work.session.add(fact)
    apply(fact, event, work.envelope.occurred_at)


def lock_messages(session: Session, events: Sequence[MessageEvent]) -> list[MessageFact]:
    wanted = {e.message_id for e in events}
    return list(
        session.scalars(
            select(MessageFact).where(MessageFact.message_id.in_(wanted)).with_for_update()
        )
    )


@subscriptions.subscribe(MessageSent, MessageDelivered, MessageFailed, preload=lock_messages)
def message_facts(event: MessageEvent, work: Work) -> None:
    assert work.envelope is not None
    fact = work.session.get(MessageFact, event.message_id)
    if fact is None:
        fact = MessageFact(message_id=event.message_id, template=event.template)
        work.session.add(fact)
    apply_message(fact, event, work.envelope.occurred_at)


@subscriptions.subscribe(CaseReturned)
def case_returns(event: CaseReturned, work: Work) -> None:
    """Each return, under the department that made it, lead or co-handling alike."""
    if work.session.get(CaseReturn, event.work_order_id) is None:
        work.session.add(
            CaseReturn(
                work_order_id=event.work_order_id,
                case_id=event.case_id,
                department_code=event.department_code,
                returned_at=event.occurred_at,
            )
        )
