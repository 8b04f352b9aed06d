"""Missed calls wait on a callback list until someone reaches the caller.

A caller's missed calls gather on one open entry; reaching them by a call back, or the caller
ringing in again and being recorded, takes the entry off the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from services.intake.models import Callback, CallbackAttempt, MissedCall
from services.kernel.auth import Staff
from services.kernel.clock import utcnow
from services.kernel.db import upsert_insert

Outcome = Literal["reached", "no-answer"]
REACHED: Outcome = "reached"
CALLED_IN = "called-in"


def record_missed_call(
    session: Session, call_id: str, caller_number: str, missed_at: datetime
) -> tuple[Callback, bool]:
    """Put the caller on the callback list (once per call id); True if this call is new."""
    earlier = session.get(MissedCall, call_id)
    if earlier is not None:
        return session.get_one(Callback, earlier.callback_id), False
    open_entry = session.scalars(
        select(Callback)
        .where(Callback.caller_number == caller_number, Callback.closed_at.is_(None))
        .order_by(Callback.id)
        .limit(1)
        .with_for_update()
    ).first()
    if open_entry is None:
        open_entry = Callback(
            caller_number=caller_number,
            first_missed_at=missed_at,
            last_missed_at=missed_at,
            missed_calls=0,
        )
        session.add(open_entry)
        session.flush()
    claimed = session.execute(
        upsert_insert(session.get_bind())(MissedCall)
        .values(call_id=call_id, callback_id=open_entry.id, missed_at=missed_at)
        .on_conflict_do_nothing()
        .returning(MissedCall.call_id)
    ).first()
    if claimed is None:
        # Reported at the same moment by another request, which has committed it since.
        if open_entry.missed_calls == 0:
            session.delete(open_entry)
        earlier = session.get_one(MissedCall, call_id)
        return session.get_one(Callback, earlier.callback_id), False
    open_entry.missed_calls += 1
    open_entry.first_missed_at = min(open_entry.first_missed_at, missed_at)
    open_entry.last_missed_at = max(open_entry.last_missed_at, missed_at)
    return open_entry, True


def open_callbacks(session: Session, limit: int = 200) -> Sequence[Callback]:
    """The callback list: who waits longest first, with the attempts made so far."""
    return session.scalars(
        select(Callback)
        .where(Callback.closed_at.is_(None))
        .order_by(Callback.first_missed_at, Callback.id)
        .limit(limit)
        .options(selectinload(Callback.attempts))
    ).all()


def record_attempt(
    session: Session, callback: Callback, staff: Staff, outcome: Outcome, note: str | None
) -> CallbackAttempt:
    """One try at calling back; reaching the caller takes the entry off the list."""
    now = utcnow()
    attempt = CallbackAttempt(
        callback_id=callback.id,
        attempted_at=now,
        staff_id=staff.staff_id,
        staff_name=staff.name,
        outcome=outcome,
        note=note,
    )
    session.add(attempt)
    if outcome == REACHED and callback.closed_at is None:
        callback.closed_at = now
        callback.closed_reason = REACHED
        callback.closed_note = staff.name
    return attempt


def close_for_caller(session: Session, caller_number: str, tracking_no: str) -> None:
    """The caller rang in and was recorded: their missed calls need no call back."""
    session.execute(
        update(Callback)
        .where(Callback.caller_number == caller_number, Callback.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_reason=CALLED_IN, closed_note=tracking_no)
    )
