"""Reporting's HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.kernel.http import unit_of_work_for
from services.kernel.work import Work
from services.reporting.kpis import summary

router = APIRouter(tags=["reporting"])
ReportingWork = Annotated[Work, Depends(unit_of_work_for("reporting"), scope="function")]
routers = [router]


class SummaryOut(BaseModel):
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]


@router.get("/api/v1/reports/summary", response_model=SummaryOut)
def read_summary(work: ReportingWork) -> SummaryOut:
    figures = summary(work.session)
    return SummaryOut(
        total=figures.total,
        by_channel=figures.by_channel,
        by_status=figures.by_status,
        by_department=figures.by_department,
    )
