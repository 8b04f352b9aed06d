"""Reminders, urges (催办) and supervision (督办): by the deadline scan, or by a supervisor's hand.

The scan claims each step of each order with one conditional UPDATE ... RETURNING: a row is
claimed only while its mark is still empty, so however many scans run at once, in however many
processes, and however often one is repeated after a crash, each step happens once per order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute

from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    CaseDeadlineNear,
    CaseOverdue,
    CaseSupervised,
    CaseUrged,
    EscalationFacts,
)
from services.kernel.http import unit_of_work_for
from services.kernel.work import Work
from services.routing.lifecycle import FINISHED_STATES
from services.routing.models import Escalation, WorkOrder

Action = Literal["urge", "supervise"]
# Orders one claim takes in a transaction; a larger backlog is worked off in turns.
CLAIM_BATCH = 500

router = APIRouter(tags=["routing"])
RoutingWork = Annotated[Work, Depends(unit_of_work_for("routing"), scope="function")]
Supervisor = Annotated[Staff, Depends(require("supervisor"))]


_CLOCK_COLUMNS = (
    WorkOrder.id,
    WorkOrder.case_id,
    WorkOrder.tracking_no,
    WorkOrder.department_code,
    WorkOrder.deadline,
    WorkOrder.due_at,
)


@dataclass(frozen=True)
class ScanResult:
    reminded: int
    overdue: int
    urged: int
    supervised: int


def scan_deadlines(work: Work, now: datetime) -> ScanResult:
    """Remind, mark overdue, urge and supervise every order whose moment has come by `now`."""
    reminded = _claim(work, WorkOrder.reminded_at, WorkOrder.remind_at <= now, now)
    for order in reminded:
        work.publish(CaseDeadlineNear(**_clock_facts(order)), case_id=order["case_id"])
    overdue = _claim(work, WorkOrder.overdue_at, WorkOrder.due_at < now, now)
    for order in overdue:
        work.publish(CaseOverdue(**_clock_facts(order)), case_id=order["case_id"])
    urged = _claim(work, WorkOrder.urged_at, WorkOrder.urge_at <= now, now, WorkOrder.urges)
    supervised = _claim(
        work, WorkOrder.supervised_at, WorkOrder.supervise_at <= now, now, WorkOrder.supervisions
    )
    for order in urged:
        _escalate(work, "urge", order, now, staff=None, note=None)
    for order in supervised:
        _escalate(work, "supervise", order, now, staff=None, note=None)
    return ScanResult(len(reminded), len(overdue), len(urged), len(supervised))


def _claim(
    work: Work,
    mark: InstrumentedAttribute[Any],
    due: ColumnElement[bool],
    now: datetime,
    counter: InstrumentedAttribute[int] | None = None,
) -> list[dict[str, Any]]:
    """Set `mark` to `now` on the open, running orders whose moment is `due`; return them.

    `counter`, when given, is counted up on each order claimed.
    """
    values: dict[Any, Any] = {mark: now}
    if counter is not None:
        values[counter] = counter + 1
    if mark is WorkOrder.supervised_at:
        # The lifecycle's flag, which re-handling sets too: one answer to "under supervision?".
        values[WorkOrder.supervised] = True
    # A reminder is only worth sending before the deadline (a scan that was down may be late).
    before_deadline = [WorkOrder.due_at > now] if mark is WorkOrder.reminded_at else []
    wanted = (
        select(WorkOrder.id)
        .where(
            due,
            mark.is_(None),
            WorkOrder.paused_at.is_(None),
            WorkOrder.status.not_in(FINISHED_STATES),
            *before_deadline,
        )
        .limit(CLAIM_BATCH)
    )
    claimed: list[dict[str, Any]] = []
    while True:
        # The conditions are repeated on the UPDATE itself: a row that a concurrent scan claims
        # first is re-checked once its lock is released, and left alone.
        rows = work.session.execute(
            update(WorkOrder)
            .where(
                WorkOrder.id.in_(wanted.scalar_subquery()),
                mark.is_(None),
                WorkOrder.paused_at.is_(None),
                WorkOrder.status.not_in(FINISHED_STATES),
            )
            .values(values)
            .returning(*_CLOCK_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all()
        claimed.extend(row._asdict() for row in rows)
        if len(rows) < CLAIM_BATCH:
            return claimed


def _clock_facts(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": order["case_id"],
        "tracking_no": order["tracking_no"],
        "work_order_id": order["id"],
        "department_code": order["department_code"],
        "deadline": order["deadline"],
        "due_at": order["due_at"],
    }


_EVENTS: dict[Action, Callable[..., EscalationFacts]] = {
    "urge": CaseUrged,
    "supervise": CaseSupervised,
}


def _escalate(
    work: Work,
    action: Action,
    order: dict[str, Any],
    now: datetime,
    *,
    staff: Staff | None,
    note: str | None,
) -> Escalation:
    """Record an urge or supervision of the order and tell the other services."""
    record = Escalation(
        id=uuid.uuid4(),
        work_order_id=order["id"],
        action=action,
        automatic=staff is None,
        staff_id=staff.staff_id if staff else None,
        staff_name=staff.name if staff else None,
        note=note,
        occurred_at=now,
    )
    work.session.add(record)
    work.publish(
        _EVENTS[action](
            **_clock_facts(order),
            automatic=record.automatic,
            staff_id=record.staff_id,
            staff_name=record.staff_name,
            note=note,
            occurred_at=now,
        ),
        case_id=order["case_id"],
    )
    return record


class EscalationIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="why, for the department")


class EscalationOut(BaseModel):
    id: uuid.UUID
    work_order_id: uuid.UUID
    action: Action
    note: str | None
    staff_id: str | None
    staff_name: str | None
    occurred_at: datetime
    urges: int = Field(description="urges of this work order so far, by the scan or by hand")
    supervisions: int


def escalate_by_hand(
    work: Work, work_order_id: uuid.UUID, action: Action, staff: Staff, note: str
) -> EscalationOut:
    order = work.session.scalars(
        select(WorkOrder).where(WorkOrder.id == work_order_id).with_for_update()
    ).first()
    if order is None:
        raise HTTPException(404, "no such work order")
    if order.status in FINISHED_STATES:
        raise HTTPException(409, f"the work order is {order.status}: there is nothing to {action}")
    if order.department_code is None or order.due_at is None:
        raise HTTPException(409, f"the work order is {order.status}: no department handles it yet")
    now = utcnow()
    order.updated_at = now
    if action == "urge":
        order.urges += 1
    else:
        order.supervisions += 1
        order.supervised = True
    facts = {column.key: getattr(order, column.key) for column in _CLOCK_COLUMNS}
    record = _escalate(work, action, facts, now, staff=staff, note=note)
    return EscalationOut(
        id=record.id,
        work_order_id=order.id,
        action=action,
        note=note,
        staff_id=record.staff_id,
        staff_name=record.staff_name,
        occurred_at=record.occurred_at,
        urges=order.urges,
        supervisions=order.supervisions,
    )


_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "only a supervisor may do this"},
    404: {"description": "no such work order"},
    409: {"description": "the work order is finished, or no department has it yet"},
}


@router.post(
    "/api/v1/work-orders/{work_order_id}/urge",
    response_model=EscalationOut,
    status_code=201,
    responses=_REFUSALS,
)
def urge(
    work_order_id: uuid.UUID, body: EscalationIn, work: RoutingWork, staff: Supervisor
) -> EscalationOut:
    """Urge the department to finish the work order (催办); it hears of it through `case.urged`."""
    return escalate_by_hand(work, work_order_id, "urge", staff, body.note)


@router.post(
    "/api/v1/work-orders/{work_order_id}/supervise",
    response_model=EscalationOut,
    status_code=201,
    responses=_REFUSALS,
)
def supervise(
    work_order_id: uuid.UUID, body: EscalationIn, work: RoutingWork, staff: Supervisor
) -> EscalationOut:
    """Put the work order under supervision (督办); announced by `case.supervised`."""
    return escalate_by_hand(work, work_order_id, "supervise", staff, body.note)
