"""Moving work orders through the lifecycle table: checks, the change, its audit and its event.

Every caller (the workbench, the console, a department's own system, intake's events) moves an
order with `act`, so each move is checked, audited and published the same way, in the caller's
unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.auth import Staff
from services.kernel.bus import department_destination
from services.kernel.clock import utcnow
from services.kernel.events import Event
from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAnswered,
    CaseAssigned,
    CaseClosed,
    CaseCoAssigned,
    CaseCoResolved,
    CaseExtensionDecided,
    CaseExtensionRequested,
    CaseMaterialRequested,
    CaseOrderMerged,
    CasePendingDispatch,
    CaseProgressed,
    CaseRehandled,
    CaseResolved,
    CaseResumed,
    CaseReturned,
    CaseRevisited,
    CaseSubmitted,
)
from services.kernel.work import Work
from services.routing import deadlines, lifecycle
from services.routing.catalogue import dispatch_refusal
from services.routing.catalogue_cache import current_catalogue
from services.routing.lifecycle import Move, Refused
from services.routing.models import Department, WorkOrder, WorkOrderAudit

# Roles that see every department's orders; a handler sees only their own department's.
_OVERSEERS = frozenset({"dispatcher", "supervisor", "admin"})


@dataclass(frozen=True)
class Who:
    """Who moves an order: a member of staff, a department's system, or routing itself."""

    actor_id: str
    name: str
    roles: tuple[lifecycle.Actor, ...]
    department_code: str | None = None

    @property
    def sees_all(self) -> bool:
        return bool(_OVERSEERS.intersection(self.roles))


SYSTEM = Who("routing", "routing", ("system",))


def staff_actor(staff: Staff) -> Who:
    roles = tuple(r for r in ("handler", "dispatcher", "supervisor", "admin") if r in staff.roles)
    return Who(staff.staff_id, staff.name, roles, staff.department_code)


def department_system(code: str) -> Who:
    """A department's own system: the same rights as that department's handlers."""
    return Who(f"system:{code}", f"{code} system", ("handler",), code)


@dataclass(frozen=True)
class Request:
    """What an action carries besides its name; each action reads the fields it needs."""

    reason: str | None = None
    reason_code: str | None = None
    new_due: date | None = None
    department_code: str | None = None
    co_department_codes: tuple[str, ...] = ()
    co_pending_reason: str | None = None
    rating: str | None = None


def visible(order: WorkOrder, who: Who) -> bool:
    return who.sees_all or (
        who.department_code is not None and order.department_code == who.department_code
    )


def find_order(session: Session, order_id: uuid.UUID, who: Who, *, lock: bool = False) -> WorkOrder:
    """The order if `who` may see it; another department's order is as good as absent (404)."""
    query = select(WorkOrder).where(WorkOrder.id == order_id)
    if lock:
        query = query.with_for_update()
    order = session.scalars(query).first()
    if order is None or not visible(order, who):
        raise Refused(404, f"no work order {order_id}")
    return order


def find_orders(
    session: Session, order_ids: Sequence[uuid.UUID], who: Who
) -> dict[uuid.UUID, WorkOrder]:
    """Several orders `who` may see, locked in one query; any other is as good as absent (404).

    Locking in id order means two batches naming the same orders never deadlock.
    """
    wanted = sorted(set(order_ids))
    found = {
        order.id: order
        for order in session.scalars(
            select(WorkOrder)
            .where(WorkOrder.id.in_(wanted))
            .order_by(WorkOrder.id)
            .with_for_update()
        )
        if visible(order, who)
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise Refused(404, f"no work order {', '.join(missing)}")
    return found


def act(work: Work, order: WorkOrder, action: str, who: Who, request: Request) -> WorkOrder:
    """Move `order` by `action` or raise Refused having changed nothing."""
    move = lifecycle.decide(order.status, action, who.roles, request.reason)
    if move.role == "handler" and order.department_code != who.department_code:
        raise Refused(404, f"no work order {order.id} in department {who.department_code}")
    _check_details(work.session, order, action, request)
    now = utcnow()
    order.status = move.target
    order.updated_at = now
    requested_due = order.requested_due
    reason = _apply(work, order, move, request, who, now)
    work.session.add(
        WorkOrderAudit(
            work_order_id=order.id,
            actor_id=who.actor_id,
            actor_name=who.name,
            actor_role=move.role,
            action=action,
            from_status=move.source,
            to_status=move.target,
            reason=reason,
            occurred_at=now,
        )
    )
    _publish(work, order, move, request, now, requested_due)
    return order


def _check_details(session: Session, order: WorkOrder, action: str, request: Request) -> None:
    """The refusals that depend on more than the table: fields, departments, co orders."""
    if action in ("dispatch", "redispatch"):
        code = request.department_code
        if not code or not _active_department(session, code):
            raise Refused(422, f"{action} needs an active department (field `department_code`)")
        if action == "redispatch" and code == order.department_code:
            raise Refused(422, "re-dispatch to another department; to keep this one, overrule")
        for co in request.co_department_codes:
            if not _active_department(session, co) or co == code:
                raise Refused(422, f"co-handling department {co!r} is unknown or is the lead")
        # The guard the catalogue's rules obey holds for a dispatcher's hand too.
        refusal = dispatch_refusal(session, order.category, code, request.co_department_codes)
        if refusal is not None:
            raise Refused(409, refusal.text("en"))
    if action == "return" and request.reason_code not in lifecycle.RETURN_CODES:
        codes = ", ".join(lifecycle.RETURN_CODES)
        raise Refused(422, f"return needs a reason code (field `reason_code`): one of {codes}")
    if action == "request_extension" and (
        request.new_due is None or request.new_due <= order.deadline
    ):
        raise Refused(
            422, f"request_extension needs a new date after {order.deadline} (field `new_due`)"
        )
    late_enough = request.new_due is None or request.new_due > order.deadline
    if action == "approve_extension" and not late_enough:
        raise Refused(422, f"the new date must be after {order.deadline} (field `new_due`)")
    if action == "resolve" and order.role == "lead" and not request.co_pending_reason:
        co_states = session.execute(
            select(WorkOrder.id, WorkOrder.status).where(WorkOrder.parent_id == order.id)
        ).tuples()
        waiting = lifecycle.unfinished_co_orders((str(i), s) for i, s in co_states)
        if waiting:
            raise Refused(
                409,
                f"co-handling orders not yet resolved: {', '.join(waiting)}; resolve them "
                "first or say why not (field `co_pending_reason`)",
            )


def _active_department(session: Session, code: str) -> bool:
    department = session.get(Department, code)
    return department is not None and department.active


def _apply(
    work: Work, order: WorkOrder, move: Move, request: Request, who: Who, now: datetime
) -> str | None:
    """The action's effects beyond the state; returns the reason as the audit keeps it."""
    action = move.transition.action
    reason = request.reason
    if action == "route":
        # The promise to the citizen is fixed when a department first gets the case.
        deadlines.on_dispatched(order, now, major=order.major)
    elif action == "sign_for":
        deadlines.on_signed_for(order, now)
    elif action == "request_material":
        deadlines.on_pause(order, now)
    elif action == "supplement":
        deadlines.on_resume(order, now)
    elif action == "request_extension":
        assert request.new_due is not None  # _check_details
        order.requested_due = request.new_due
        order.review_note = reason
        reason = f"until {request.new_due}: {reason}"
    elif action in ("approve_extension", "refuse_extension"):
        if action == "approve_extension":
            new_due = request.new_due or order.requested_due
            assert new_due is not None  # set when the extension was requested
            order.deadline = new_due
            deadlines.on_extended(order, new_due, now)
            reason = f"until {new_due}" + (f": {reason}" if reason else "")
        order.review_note = None
        order.requested_due = None
    elif action == "return":
        order.return_code = request.reason_code
        order.review_note = reason
        reason = f"{request.reason_code}: {reason}"
    elif action in ("dispatch", "redispatch", "overrule"):
        if action != "overrule":
            assert request.department_code is not None  # _check_details
            order.department_code = request.department_code
            # The dispatcher's choice, which learned dispatch may learn from.
            order.matched_by = f"dispatcher:{who.actor_id}"
        order.return_code = None
        order.review_note = None
        # A re-dispatch or an overrule keeps the date already promised.
        deadlines.on_dispatched(order, now, major=order.major)
        add_co_orders(work, order, request.co_department_codes)
    elif action == "resolve" and request.co_pending_reason:
        reason = f"{reason} (co-handling still open: {request.co_pending_reason})"
    elif action == "rehandle":
        order.supervised = order.supervised or lifecycle.rehandle_escalates(order.rehandles)
        order.rehandles += 1
    return reason


def _publish(
    work: Work,
    order: WorkOrder,
    move: Move,
    request: Request,
    now: datetime,
    requested_due: date | None,
) -> None:
    """The transition's event; `requested_due` is the extension asked for before the move."""
    action = move.transition.action
    if action in ("route", "dispatch", "redispatch", "overrule"):
        _publish_assignment(work, order)
        return
    if action == "answer" and move.role == "system":
        # Answered at intake: intake's case.submitted (answered_directly) has told everyone.
        return
    if action == "hold":
        work.publish(
            CasePendingDispatch(
                case_id=order.case_id,
                tracking_no=order.tracking_no,
                work_order_id=order.id,
                reason=order.matched_by,
            ),
            case_id=order.case_id,
        )
        return
    if action == "resolve" and order.role == "lead":
        assert order.department_code is not None
        assert request.reason is not None
        work.publish(
            CaseResolved(
                case_id=order.case_id,
                tracking_no=order.tracking_no,
                work_order_id=order.id,
                department_code=order.department_code,
                department_name=_department_name(work.session, order.department_code),
                reply=request.reason,
                resolved_at=now,
            ),
            case_id=order.case_id,
        )
        return
    common = {
        "case_id": order.case_id,
        "tracking_no": order.tracking_no,
        "work_order_id": order.id,
        "department_code": order.department_code,
        "order_role": order.role,
        "action": action,
        "from_status": move.source,
        "to_status": move.target,
        "actor_role": move.role,
        "reason": request.reason,
        "occurred_at": now,
    }
    event: Event
    if action == "request_extension":
        assert request.new_due is not None
        event = CaseExtensionRequested(**common, requested_due=request.new_due)
    elif action in ("approve_extension", "refuse_extension"):
        requested = request.new_due or requested_due
        assert requested is not None
        event = CaseExtensionDecided(
            **common,
            approved=action == "approve_extension",
            requested_due=requested,
            deadline=order.deadline,
        )
    elif action == "return":
        assert request.reason_code in lifecycle.RETURN_CODES
        event = CaseReturned(**common, reason_code=request.reason_code)
    elif action == "revisit":
        event = CaseRevisited(**common, rating=request.rating)
    elif action == "rehandle":
        event = CaseRehandled(**common, rehandles=order.rehandles, supervision=order.supervised)
    else:
        event = _PLAIN_EVENTS[action](**common)
    work.publish(event, case_id=order.case_id)


_PLAIN_EVENTS: dict[str, type[Event]] = {
    "sign_for": CaseAccepted,
    "progress": CaseProgressed,
    "request_material": CaseMaterialRequested,
    "supplement": CaseResumed,
    "answer": CaseAnswered,
    "resolve": CaseCoResolved,
    "close": CaseClosed,
    "merge": CaseOrderMerged,
}


def _department_name(session: Session, code: str) -> str:
    return current_catalogue(session).department_names.get(code, code)


def _publish_assignment(work: Work, order: WorkOrder) -> None:
    """The order on its department's queue `dept.<code>`; a lead's also tells the citizen."""
    code = order.department_code
    assert code is not None
    name = _department_name(work.session, code)
    if order.role == "lead":
        event: Event = CaseAssigned(
            case_id=order.case_id,
            tracking_no=order.tracking_no,
            work_order_id=order.id,
            department_code=code,
            department_name=name,
            deadline=order.deadline,
            matched_by=order.matched_by,
            kind=order.kind,
            category=order.category,
            description=order.description,
            address=order.address,
        )
    else:
        lead = work.session.get(WorkOrder, order.parent_id)
        assert lead is not None
        event = CaseCoAssigned(
            case_id=order.case_id,
            tracking_no=order.tracking_no,
            work_order_id=order.id,
            department_code=code,
            order_role="co",
            action="route",
            from_status=lifecycle.REGISTERED,
            to_status=order.status,
            actor_role="system",
            reason=None,
            occurred_at=order.updated_at,
            lead_work_order_id=lead.id,
            lead_department_code=lead.department_code,
            department_name=name,
            deadline=order.deadline,
            kind=order.kind,
            category=order.category,
            description=order.description,
            address=order.address,
        )
    work.publish(event, case_id=order.case_id, also_to=[department_destination(code)])


def _new_order(
    case_id: uuid.UUID,
    tracking_no: str,
    *,
    department_code: str | None,
    matched_by: str,
    kind: str,
    category: str | None,
    description: str,
    address: str | None,
    deadline: date,
    role: str = "lead",
    parent_id: uuid.UUID | None = None,
) -> WorkOrder:
    now = utcnow()
    return WorkOrder(
        id=uuid.uuid4(),
        case_id=case_id,
        tracking_no=tracking_no,
        department_code=department_code,
        status=lifecycle.REGISTERED,
        matched_by=matched_by,
        kind=kind,
        category=category,
        description=description,
        address=address,
        deadline=deadline,
        created_at=now,
        updated_at=now,
        role=role,
        parent_id=parent_id,
        rehandles=0,
        supervised=False,
    )


def open_work_orders(
    work: Work,
    event: CaseSubmitted,
    lead_code: str | None,
    co_codes: Sequence[str],
    matched_by: str,
    columns: Mapping[str, Any] | None = None,
) -> WorkOrder:
    """Register the case's lead order, and its co-handling orders when there is a lead.

    No lead department means the dispatcher decides (awaiting dispatch); a consultation
    answered at intake is recorded as answered, on no department's queue. `columns` are what
    the dispatch decision adds to the lead's row (scope level, priority, ...).
    """
    lead = _new_order(
        event.case_id,
        event.tracking_no,
        department_code=None if event.answered_directly else lead_code,
        matched_by="answered directly" if event.answered_directly else matched_by,
        kind=event.kind,
        category=event.category,
        description=event.description,
        address=event.location.address if event.location else None,
        # Intake's estimate, until dispatch fixes the promise (deadlines.on_dispatched).
        deadline=event.promised_date,
    )
    for name, value in (columns or {}).items():
        setattr(lead, name, value)
    work.session.add(lead)
    if event.answered_directly:
        return act(work, lead, "answer", SYSTEM, Request(reason="answered at intake"))
    if lead_code is None:
        return act(work, lead, "hold", SYSTEM, Request(reason=matched_by))
    act(work, lead, "route", SYSTEM, Request())
    add_co_orders(work, lead, co_codes)
    return lead


def add_co_orders(work: Work, lead: WorkOrder, codes: Iterable[str]) -> list[WorkOrder]:
    """Co-handling orders (会诊) under `lead`, each on its own department's queue."""
    orders = []
    for code in codes:
        if code == lead.department_code:
            continue
        order = _new_order(
            lead.case_id,
            lead.tracking_no,
            department_code=code,
            matched_by=f"co-handling with {lead.department_code}",
            kind=lead.kind,
            category=lead.category,
            description=lead.description,
            address=lead.address,
            deadline=lead.deadline,
            role="co",
            parent_id=lead.id,
        )
        work.session.add(order)
        orders.append(act(work, order, "route", SYSTEM, Request()))
    return orders


def orders_of_case(session: Session, case_id: uuid.UUID, *, lock: bool = False) -> list[WorkOrder]:
    query = select(WorkOrder).where(WorkOrder.case_id == case_id).order_by(WorkOrder.created_at)
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))
