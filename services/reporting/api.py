"""Reporting's HTTP API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from services.kernel.auth import Staff, require
from services.kernel.events.contracts import Channel, Kind, ScopeLevel
from services.kernel.http import unit_of_work_for
from services.kernel.language import InvalidValue
from services.kernel.work import Work
from services.reporting.kpis import Figures, Filters, Period, figures, summary
from services.reporting.period_query import LONGEST_PERIOD_DAYS, PeriodQuery

router = APIRouter(tags=["reporting"])
ReportingWork = Annotated[Work, Depends(unit_of_work_for("reporting"), scope="function")]
# Departments' figures are for those who supervise them, not for anyone who can reach the port.
ReportReader = Annotated[Staff, Depends(require("supervisor", "admin"))]


class SummaryOut(BaseModel):
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]


class SummaryQuery(BaseModel):
    """Optionally, the days in China Standard Time whose submissions to count, both included."""

    # Lenient, as it always was: scripts that add a parameter of their own keep working.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    first: date | None = Field(default=None, alias="from", description="the period's first day")
    last: date | None = Field(default=None, alias="to", description="the period's last day")

    @model_validator(mode="after")
    def _a_real_period(self) -> Self:
        if (self.first is None) != (self.last is None):
            missing = "to" if self.last is None else "from"
            _refuse(
                missing,
                InvalidValue("give both from and to, or neither", "开始和结束日期须同时给出"),
                None,
                SummaryQuery,
            )
        if self.first is not None and self.last is not None:
            _check_period(self.first, self.last, SummaryQuery)
        return self

    @property
    def period(self) -> Period | None:
        return None if self.first is None or self.last is None else Period(self.first, self.last)


# Open to every caller: dashboards and scripts read it without signing in (see README).
@router.get("/api/v1/reports/summary", response_model=SummaryOut)
def read_summary(query: Annotated[SummaryQuery, Query()], work: ReportingWork) -> SummaryOut:
    figures = summary(work.session, query.period)
    return SummaryOut(
        total=figures.total,
        by_channel=figures.by_channel,
        by_status=figures.by_status,
        by_department=figures.by_department,
    )


class KpiQuery(PeriodQuery):
    """The period, its days in China Standard Time both included, and the cases to count."""

    channel: Channel | None = None
    kind: Kind | None = None
    category: str | None = Field(default=None, min_length=1, max_length=64)
    department: str | None = Field(
        default=None, min_length=1, max_length=40, description="the department's code"
    )
    township: str | None = Field(
        default=None, min_length=1, max_length=40, description="e.g. 城关镇, as addresses name it"
    )
    village: str | None = Field(
        default=None, min_length=1, max_length=40, description="e.g. 东街村 or 南街社区"
    )
    scope_level: ScopeLevel | None = None

    @property
    def filters(self) -> Filters:
        return Filters(
            channel=self.channel,
            kind=self.kind,
            category=self.category,
            department=self.department,
            township=self.township,
            village=self.village,
            scope_level=self.scope_level,
        )


def _check_period(first: date, last: date, query: type[BaseModel]) -> None:
    if last < first:
        _refuse("to", InvalidValue("must not be before from", "不能早于开始日期"), last, query)
    if (last - first).days >= LONGEST_PERIOD_DAYS:
        _refuse(
            "to",
            InvalidValue(
                f"at most {LONGEST_PERIOD_DAYS} days after from",
                f"与开始日期相隔不能超过 {LONGEST_PERIOD_DAYS} 天",
            ),
            last,
            query,
        )


def _refuse(field: str, reason: InvalidValue, value: date | None, query: type[BaseModel]) -> None:
    """Fail as a field's own error, so the 422 names `to`, not the query as a whole."""
    error = InitErrorDetails(
        type=PydanticCustomError("value_error", "{error}", {"error": reason}),
        loc=(field,),
        input=value,
        ctx={"error": reason},
    )
    raise ValidationError.from_exception_data(query.__name__, [error])


@router.get("/api/v1/reports/kpis", response_model=Figures)
def read_kpis(
    query: Annotated[KpiQuery, Query()], work: ReportingWork, _reader: ReportReader
) -> Figures:
    return figures(work.session, Period(query.first, query.last), query.filters)
