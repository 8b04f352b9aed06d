"""The dispatcher's view of what the classifier suggested for a work order."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from services.kernel.auth import Staff, require
from services.kernel.http import unit_of_work_for
from services.kernel.work import Work
from services.routing.models import Department, WorkOrder

router = APIRouter(tags=["routing"])
RoutingWork = Annotated[Work, Depends(unit_of_work_for("routing"), scope="function")]
Dispatcher = Annotated[Staff, Depends(require("dispatcher"))]


class SuggestionOut(BaseModel):
    department_code: str
    department_name: str | None
    confidence: float
    # The words of the text that weighed most for this department, strongest first.
    words: list[str]


class SuggestionsOut(BaseModel):
    work_order_id: uuid.UUID
    status: str
    department_code: str | None
    matched_by: str
    # None when the catalogue's rules decided (no model trained yet, or a named category).
    model_version: int | None
    threshold: float | None
    suggestions: list[SuggestionOut]


@router.get(
    "/api/v1/work-orders/{work_order_id}/suggestions",
    response_model=SuggestionsOut,
    responses={404: {"description": "no such work order"}},
)
def work_order_suggestions(
    work_order_id: uuid.UUID, work: RoutingWork, _staff: Dispatcher
) -> SuggestionsOut:
    """The departments the classifier suggested, likeliest first, and the words behind them."""
    order = work.session.get(WorkOrder, work_order_id)
    if order is None:
        raise HTTPException(404, f"no work order {work_order_id}")
    stored: dict[str, Any] = order.suggestions or {}
    names = dict(work.session.execute(select(Department.code, Department.name)).tuples().all())
    return SuggestionsOut(
        work_order_id=order.id,
        status=order.status,
        department_code=order.department_code,
        matched_by=order.matched_by,
        model_version=stored.get("model_version"),
        threshold=stored.get("threshold"),
        suggestions=[
            SuggestionOut(
                department_code=s["department_code"],
                department_name=names.get(s["department_code"]),
                confidence=s["confidence"],
                words=s["words"],
            )
            for s in stored.get("suggestions", [])
        ],
    )
