"""The dispatcher console: the manual queue, returns to review, extensions to decide.

The console's actions (dispatch, redispatch, overrule, approve-extension, refuse-extension) are
the work order actions of workbench.py; the lifecycle table admits only dispatchers to them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.workdays import local_date
from services.routing import lifecycle
from services.routing.models import Department, WorkOrder
from services.routing.work_orders import staff_actor
from services.routing.workbench import RoutingWork, WorkOrderOut, order_out, pages, signed_in

router = APIRouter(tags=["routing"])
ConsoleStaff = Annotated[Staff, Depends(require("dispatcher", "supervisor", "admin"))]
# Console list -> the state its orders wait in.
LISTS = {
    "manual": lifecycle.AWAITING_DISPATCH,
    "returns": lifecycle.RETURNED,
    "extensions": lifecycle.EXTENSION_REQUESTED,
    # Resolved orders to revisit (回访) or send back, and revisited ones to close.
    "resolved": lifecycle.RESOLVED,
    "revisited": lifecycle.REVISITED,
}


class ConsoleOut(BaseModel):
    manual: list[WorkOrderOut]
    returns: list[WorkOrderOut]
    extensions: list[WorkOrderOut]
    resolved: list[WorkOrderOut]
    revisited: list[WorkOrderOut]


def waiting(session: Session, state: str) -> list[WorkOrder]:
    """Orders waiting on the dispatcher in `state`, the oldest first."""
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.status == state)
            .order_by(WorkOrder.updated_at, WorkOrder.id)
        )
    )


def console_lists(session: Session, staff: Staff) -> ConsoleOut:
    who = staff_actor(staff)
    today = local_date(utcnow())
    found = {
        name: [order_out(o, who, today) for o in waiting(session, state)]
        for name, state in LISTS.items()
    }
    return ConsoleOut(**found)


@router.get("/api/v1/console", response_model=ConsoleOut)
def console(work: RoutingWork, staff: ConsoleStaff) -> ConsoleOut:
    """Everything waiting on a dispatcher, by list."""
    return console_lists(work.session, staff)


@router.get("/api/v1/console/{name}", response_model=list[WorkOrderOut])
def console_list(name: str, work: RoutingWork, staff: ConsoleStaff) -> list[WorkOrderOut]:
    """One list: `manual` (awaiting dispatch), `returns` (to review), `extensions` (to decide),
    `resolved` (to revisit or re-handle), `revisited` (to close)."""
    if name not in LISTS:
        raise HTTPException(404, f"no console list {name!r}; lists are: {', '.join(LISTS)}")
    who = staff_actor(staff)
    today = local_date(utcnow())
    return [order_out(o, who, today) for o in waiting(work.session, LISTS[name])]


@router.get("/staff/console", response_class=HTMLResponse, include_in_schema=False)
def console_page(request: Request, work: RoutingWork) -> Response:
    staff = signed_in(request, "/staff/console")
    if not isinstance(staff, Staff):
        return staff
    if not staff.has("dispatcher", "supervisor", "admin"):
        return pages.render(request, "workbench/forbidden.html", {"staff": staff}, 403)
    departments = work.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code)
    ).all()
    context = {
        "staff": staff,
        "lists": console_lists(work.session, staff),
        "departments": departments,
        "return_codes": lifecycle.RETURN_CODES,
        "error": request.query_params.get("error"),
    }
    return pages.render(request, "console/index.html", context)
