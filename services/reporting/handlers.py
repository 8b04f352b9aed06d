"""Reporting's projections, fed by the case events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from services.kernel.consumer import Subscriptions
from services.kernel.db import upsert_insert
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


# Where a batch keeps its rows, in `Session.info`: a session lives for one batch.
_CASES = "reporting.case_facts"
_MESSAGES = "reporting.message_facts"


def lock_facts(session: Session, events: Sequence[CaseEvent]) -> list[CaseFact]:
    """The batch's rows, locked: another reporting process may be applying the same case.

    Kept by case id for the handler, which then adds the rows not found without asking the
    database again: a lookup per event would flush the batch's rows one event at a time.
    """
    wanted = {e.case_id for e in events}
    rows = list(
        session.scalars(select(CaseFact).where(CaseFact.case_id.in_(wanted)).with_for_update())
    )
    session.info[_CASES] = {row.case_id: row for row in rows}
    return rows


@subscriptions.subscribe(*CASE_EVENTS, preload=lock_facts)
def case_facts(event: CaseEvent, work: Work) -> None:
    assert work.envelope is not None
    rows: dict[uuid.UUID, CaseFact] = work.session.info[_CASES]
    fact = rows.get(event.case_id)
    if fact is None:
        fact = rows[event.case_id] = blank(event.case_id)
        work.session.add(fact)
    apply(fact, event, work.envelope.occurred_at)


def lock_messages(session: Session, events: Sequence[MessageEvent]) -> list[MessageFact]:
    """The batch's message rows, locked and kept by message id, as `lock_facts` does."""
    wanted = {e.message_id for e in events}
    rows = list(
        session.scalars(
            select(MessageFact).where(MessageFact.message_id.in_(wanted)).with_for_update()
        )
    )
    session.info[_MESSAGES] = {row.message_id: row for row in rows}
    return rows


@subscriptions.subscribe(MessageSent, MessageDelivered, MessageFailed, preload=lock_messages)
def message_facts(event: MessageEvent, work: Work) -> None:
    assert work.envelope is not None
    rows: dict[uuid.UUID, MessageFact] = work.session.info[_MESSAGES]
    fact = rows.get(event.message_id)
    if fact is None:
        fact = rows[event.message_id] = MessageFact(
            message_id=event.message_id, template=event.template
        )
        work.session.add(fact)
    apply_message(fact, event, work.envelope.occurred_at)


@subscriptions.subscribe(CaseReturned)
def case_returns(event: CaseReturned, work: Work) -> None:
    """Each return, under the department that made it, lead or co-handling alike."""
    returns = cast(Table, CaseReturn.__table__)
    # A returned work order is returned once: a second copy of its event changes nothing.
    work.session.execute(
        upsert_insert(work.session.get_bind())(returns)
        .values(
            work_order_id=event.work_order_id,
            case_id=event.case_id,
            department_code=event.department_code,
            returned_at=event.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=[returns.c.work_order_id])
    )
