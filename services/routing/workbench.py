"""The department workbench: a handler's queue, and every work order action, over HTTP and pages.

Actions share one route, `POST /api/v1/work-orders/{id}/{action}`: the lifecycle table decides
who may do what, so a dispatcher's actions (console.py) go through the same checks.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.auth import CurrentStaff, Staff, require, staff_or_none
from services.kernel.clock import utcnow
from services.kernel.http import unit_of_work_for
from services.kernel.pages import Pages
from services.kernel.work import Work
from services.kernel.workdays import add_working_days, local_date
from services.routing import lifecycle
from services.routing.lifecycle import Refused
from services.routing.models import WorkOrder, WorkOrderAudit
from services.routing.work_orders import Request as ActionRequest
from services.routing.work_orders import Who, act, find_order, find_orders, staff_actor

router = APIRouter(tags=["routing"])
pages = Pages(Path(__file__).with_name("templates"))
RoutingWork = Annotated[Work, Depends(unit_of_work_for("routing"), scope="function")]
Handler = Annotated[Staff, Depends(require("handler"))]
# Orders due within this many working days are marked "due soon".
DUE_SOON_WORKING_DAYS = 2
# A department's open orders, the ones its queue shows.
QUEUE_STATES = (
    lifecycle.DISPATCHED,
    lifecycle.SIGNED_FOR,
    lifecycle.IN_PROGRESS,
    lifecycle.AWAITING_CITIZEN,
    lifecycle.EXTENSION_REQUESTED,
)


class ActionIn(BaseModel):
    """What an action may carry; each action uses the fields it needs."""

    reason: str | None = Field(
        default=None, max_length=4000, description="note, reasons, answer or legal basis"
    )
    reply: str | None = Field(
        default=None, max_length=4000, description="resolve: the reply to the citizen"
    )
    legal_basis: str | None = Field(default=None, max_length=4000, description="return: why")
    reason_code: lifecycle.ReturnCode | None = Field(default=None, description="return only")
    new_due: date | None = Field(default=None, description="request/approve an extension")
    department_code: str | None = Field(default=None, description="dispatch, redispatch")
    co_department_codes: list[str] = Field(default=[], max_length=10)
    co_pending_reason: str | None = Field(
        default=None, max_length=2000, description="resolve a lead before its co orders: why"
    )

    def as_request(self) -> ActionRequest:
        return ActionRequest(
            reason=self.reply or self.legal_basis or self.reason,
            reason_code=self.reason_code,
            new_due=self.new_due,
            department_code=self.department_code,
            co_department_codes=tuple(self.co_department_codes),
            co_pending_reason=self.co_pending_reason,
        )


class WorkOrderOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    tracking_no: str
    department_code: str | None
    status: str
    role: str
    parent_id: uuid.UUID | None
    kind: str
    category: str | None
    description: str
    address: str | None
    deadline: date
    overdue: bool
    due_soon: bool
    requested_due: date | None
    return_code: str | None
    review_note: str | None
    rehandles: int
    supervised: bool
    actions: list[str] = Field(description="what the caller may do to it now")


class AuditOut(BaseModel):
    actor_id: str
    actor_name: str
    actor_role: str
    action: str
    from_status: str
    to_status: str
    reason: str | None
    occurred_at: datetime


class WorkOrderDetail(WorkOrderOut):
    audit: list[AuditOut]


def marks(deadline: date, today: date) -> tuple[bool, bool]:
    """(overdue, due soon) for an order due on `deadline`."""
    overdue = deadline < today
    return overdue, not overdue and deadline <= add_working_days(today, DUE_SOON_WORKING_DAYS)


def order_out(order: WorkOrder, who: Who, today: date) -> WorkOrderOut:
    overdue, due_soon = marks(order.deadline, today)
    actions = sorted(
        {a for role in who.roles for a in lifecycle.actions_from(order.status, role)},
        key=lifecycle.ACTIONS.index,
    )
    return WorkOrderOut(
        id=order.id,
        case_id=order.case_id,
        tracking_no=order.tracking_no,
        department_code=order.department_code,
        status=order.status,
        role=order.role,
        parent_id=order.parent_id,
        kind=order.kind,
        category=order.category,
        description=order.description,
        address=order.address,
        deadline=order.deadline,
        overdue=overdue,
        due_soon=due_soon,
        requested_due=order.requested_due,
        return_code=order.return_code,
        review_note=order.review_note,
        rehandles=order.rehandles,
        supervised=order.supervised,
        actions=[a.replace("_", "-") for a in actions],
    )


def department_queue(session: Session, code: str | None) -> list[WorkOrder]:
    """A department's open orders, the soonest due first."""
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.department_code == code, WorkOrder.status.in_(QUEUE_STATES))
            .order_by(WorkOrder.deadline, WorkOrder.created_at)
        )
    )


def refusal(exc: Refused) -> HTTPException:
    return HTTPException(exc.status, exc.message)


@router.get("/api/v1/workbench/orders", response_model=list[WorkOrderOut])
def workbench_orders(work: RoutingWork, staff: Handler) -> list[WorkOrderOut]:
    """The handler's own department's queue, soonest due first, overdue and due soon marked."""
    who = staff_actor(staff)
    today = local_date(utcnow())
    return [order_out(o, who, today) for o in department_queue(work.session, who.department_code)]


@router.get("/api/v1/work-orders/{order_id}", response_model=WorkOrderDetail)
def work_order(order_id: uuid.UUID, work: RoutingWork, staff: CurrentStaff) -> WorkOrderDetail:
    """One work order and its audit trail; another department's order is not found (404)."""
    who = staff_actor(staff)
    try:
        order = find_order(work.session, order_id, who)
    except Refused as exc:
        raise refusal(exc) from None
    trail = work.session.scalars(
        select(WorkOrderAudit)
        .where(WorkOrderAudit.work_order_id == order.id)
        .order_by(WorkOrderAudit.id)
    )
    return WorkOrderDetail(
        **order_out(order, who, local_date(utcnow())).model_dump(),
        audit=[AuditOut.model_validate(a, from_attributes=True) for a in trail],
    )


def perform(
    work: Work, staff: Staff, order_id: uuid.UUID, action: str, body: ActionIn
) -> WorkOrder:
    """Find, check and move; a refusal raises before anything changed (the request rolls back)."""
    who = staff_actor(staff)
    try:
        order = find_order(work.session, order_id, who, lock=True)
        return act(work, order, action.replace("-", "_"), who, body.as_request())
    except Refused as exc:
        raise refusal(exc) from None


@router.post(
    "/api/v1/work-orders/{order_id}/{action}",
    response_model=WorkOrderOut,
    responses={
        403: {"description": "the action is not for your role"},
        404: {"description": "no such order (or another department's), or no such action"},
        409: {"description": "the order's state does not allow the action"},
        422: {"description": "a field the action needs is missing or wrong"},
    },
)
def work_order_action(
    order_id: uuid.UUID,
    action: str,
    work: RoutingWork,
    staff: CurrentStaff,
    body: ActionIn | None = None,
) -> WorkOrderOut:
    """Move a work order: sign-for, progress, request-material, request-extension, return,
    resolve (handlers); dispatch, redispatch, overrule, approve-extension, refuse-extension,
    answer, revisit, rehandle, close (dispatchers). See the lifecycle table in the README."""
    order = perform(work, staff, order_id, action, body or ActionIn())
    return order_out(order, staff_actor(staff), local_date(utcnow()))


# A batch: as many actions as a handler selects at once (e.g. signing for a morning's orders),
# or as a department's system sends, in one transaction.
MAX_BATCH = 200


class BatchActionIn(ActionIn):
    order_id: uuid.UUID
    action: str = Field(description="as in POST /api/v1/work-orders/{id}/{action}")


class BatchIn(BaseModel):
    actions: list[BatchActionIn] = Field(min_length=1, max_length=MAX_BATCH)


class BatchOut(BaseModel):
    orders: list[WorkOrderOut] = Field(description="each order after its action, in their order")


def perform_batch(work: Work, staff: Staff, actions: list[BatchActionIn]) -> list[WorkOrderOut]:
    """Every action in turn, or none: the first refusal names its action and rolls all back.

    Returns each order as its action left it (an order may appear more than once).
    """
    who = staff_actor(staff)
    today = local_date(utcnow())
    try:
        orders = find_orders(work.session, [a.order_id for a in actions], who)
    except Refused as exc:
        raise refusal(exc) from None
    moved = []
    for index, item in enumerate(actions):
        try:
            order = act(
                work, orders[item.order_id], item.action.replace("-", "_"), who, item.as_request()
            )
        except Refused as exc:
            raise HTTPException(
                exc.status,
                f"action {index} ({item.action} on {item.order_id}): {exc.message}; "
                "nothing was changed",
            ) from None
        moved.append(order_out(order, who, today))
    return moved


@router.post(
    "/api/v1/work-orders/actions",
    response_model=BatchOut,
    responses={
        403: {"description": "an action is not for your role; nothing was changed"},
        404: {"description": "an order is unknown (or another department's); nothing changed"},
        409: {"description": "an order's state does not allow its action; nothing was changed"},
        422: {"description": "a field an action needs is missing or wrong; nothing was changed"},
    },
)
def work_order_actions(work: RoutingWork, staff: CurrentStaff, body: BatchIn) -> BatchOut:
    """Several actions in one transaction, all or none: each is checked, audited and published
    exactly as on its own. Actions on one order apply in the order given (sign-for, then
    progress). The error of a refused batch says which action was refused and why."""
    return BatchOut(orders=perform_batch(work, staff, body.actions))


# Pages: the same queue and actions as forms; the token travels in the sign-in cookie.


def signed_in(request: Request, target: str) -> Staff | Response:
    staff = staff_or_none(request)
    if staff is None:
        return RedirectResponse(f"/staff/login?next={target}", status_code=303)
    return staff


@router.get("/staff/workbench", response_class=HTMLResponse, include_in_schema=False)
def workbench_page(request: Request, work: RoutingWork) -> Response:
    staff = signed_in(request, "/staff/workbench")
    if not isinstance(staff, Staff):
        return staff
    if not staff.has("handler"):
        return pages.render(request, "workbench/forbidden.html", {"staff": staff}, 403)
    who = staff_actor(staff)
    today = local_date(utcnow())
    orders = [order_out(o, who, today) for o in department_queue(work.session, who.department_code)]
    context = {
        "staff": staff,
        "orders": orders,
        # More than one order to sign for: the page offers to sign for them at once.
        "signable": sum("sign-for" in o.actions for o in orders),
        "error": request.query_params.get("error"),
    }
    return pages.render(request, "workbench/index.html", context)


@router.post(
    "/staff/work-orders/{order_id}/{action}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def work_order_form(
    request: Request,
    order_id: uuid.UUID,
    action: str,
    work: RoutingWork,
    reason: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    new_due: Annotated[str, Form()] = "",
    department_code: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/staff/workbench",
) -> Response:
    """A page's form: the same action as the API, then back to the page (with the refusal)."""
    back = back if back in ("/staff/workbench", "/staff/console") else "/staff/workbench"
    staff = signed_in(request, back)
    if not isinstance(staff, Staff):
        return staff
    try:
        body = ActionIn(
            reason=reason or None,
            reason_code=reason_code or None,
            new_due=date.fromisoformat(new_due) if new_due else None,
            department_code=department_code or None,
        )
    except ValueError as exc:
        return RedirectResponse(f"{back}?error={_quote(str(exc)[:200])}", status_code=303)
    who = staff_actor(staff)
    try:
        order = find_order(work.session, order_id, who, lock=True)
        act(work, order, action.replace("-", "_"), who, body.as_request())
    except Refused as exc:
        return RedirectResponse(f"{back}?error={_quote(exc.message)}", status_code=303)
    return RedirectResponse(back, status_code=303)


@router.post("/staff/workbench/sign-for", response_class=HTMLResponse, include_in_schema=False)
def sign_for_selected(
    request: Request,
    work: RoutingWork,
    order_id: Annotated[list[uuid.UUID], Form()] = [],  # noqa: B006 - FastAPI copies it
) -> Response:
    """The queue page's 批量签收: sign for every ticked order, or for none (with the refusal)."""
    staff = signed_in(request, "/staff/workbench")
    if not isinstance(staff, Staff):
        return staff
    if not order_id:
        message = "tick the orders to sign for"
        return RedirectResponse(f"/staff/workbench?error={_quote(message)}", status_code=303)
    actions = [BatchActionIn(order_id=i, action="sign-for") for i in order_id]
    try:
        perform_batch(work, staff, actions)
    except HTTPException as exc:
        return RedirectResponse(f"/staff/workbench?error={_quote(exc.detail)}", status_code=303)
    return RedirectResponse("/staff/workbench", status_code=303)


def _quote(text: str) -> str:
    return quote(text, safe="")
