"""Routing's HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from services.kernel.http import unit_of_work_for
from services.kernel.work import Work
from services.routing import auth_api, console, escalation, workbench
from services.routing.models import Department

router = APIRouter(tags=["routing"])
RoutingWork = Annotated[Work, Depends(unit_of_work_for("routing"), scope="function")]
# The escalation routes name their action (urge, supervise); the workbench routes take any
# action as a path parameter, so they come after.
routers = [router, auth_api.router, escalation.router, workbench.router, console.router]


class DepartmentOut(BaseModel):
    code: str
    name: str
    name_en: str


@router.get("/api/v1/departments", response_model=list[DepartmentOut])
def list_departments(work: RoutingWork) -> list[DepartmentOut]:
    departments = work.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code)
    )
    return [DepartmentOut(code=d.code, name=d.name, name_en=d.name_en) for d in departments]
