"""Reporting's HTTP API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from services.kernel.auth import Staff, require
from services.kernel.events.contracts import Channel, Kind
from services.kernel.http import unit_of_work_for
from services.kernel.language import InvalidValue
from services.kernel.work import Work
from services.reporting.kpis import Figures, Filters, Period, figures, summary

router = APIRouter(tags=["reporting"])
ReportingWork = Annotated[Work, Depends(unit_of_work_for("reporting"), scope="function")]
# Departments' figures are for those who supervise them, not for anyone who can reach the port.
ReportReader = Annotated[Staff, Depends(require("supervisor", "admin"))]

# A longer span is a full scan of the read model for little use: ask for years one by one.
LONGEST_PERIOD_DAYS = 366


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


class KpiQuery(BaseModel):
    """The period, its days in China Standard Time both included, and the cases to count."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    first: date = Field(alias="from", description="the period's first day")
    last: date = Field(alias="to", description="the period's last day")
    channel: Channel | None = None
    kind: Kind | None = None
    category: str | None = Field(default=None, min_length=1, max_length=64)
    department: str | None = Field(
        default=None, min_length=1, max_length=40, description="the department's code"
    )

    @model_validator(mode="after")
    def _a_real_period(self) -> Self:
        if self.last < self.first:
            _refuse("to", InvalidValue("must not be before from", "不能早于开始日期"), self.last)
        if (self.last - self.first).days >= LONGEST_PERIOD_DAYS:
            _refuse(
                "to",
                InvalidValue(
                    f"at most {LONGEST_PERIOD_DAYS} days after from",
                    f"与开始日期相隔不能超过 {LONGEST_PERIOD_DAYS} 天",
                ),
                self.last,
            )
        return self


def _refuse(field: str, reason: InvalidValue, value: date) -> None:
    """Fail as a field's own error, so the 422 names `to`, not the query as a whole."""
    error = InitErrorDetails(
        type=PydanticCustomError("value_error", "{error}", {"error": reason}),
        loc=(field,),
        input=value,
        ctx={"error": reason},
    )
    raise ValidationError.from_exception_data(KpiQuery.__name__, [error])


@router.get("/api/v1/reports/kpis", response_model=Figures)
def read_kpis(
    query: Annotated[KpiQuery, Query()], work: ReportingWork, _reader: ReportReader
) -> Figures:
    return figures(
        work.session,
        Period(query.first, query.last),
        Filters(query.channel, query.kind, query.category, query.department),
    )
