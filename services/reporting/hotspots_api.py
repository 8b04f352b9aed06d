"""Hot spots over HTTP: `GET /api/v1/reports/hotspots`, for those who supervise departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.reporting.api import ReportingWork, ReportReader
from services.reporting.hotspots import (
    DEFAULT_MIN_CASES,
    Cluster,
    HotSpot,
    PlacedCase,
    Reason,
    Thresholds,
    hot_spots,
    previous_period,
)
from services.reporting.kpis import Period
from services.reporting.models import CaseFact
from services.reporting.period_query import PeriodOut, PeriodQuery

router = APIRouter(tags=["reporting"])

# Two cases are a coincidence, not a pattern; a thousand in one place is no longer a hot spot
# to find but an emergency everyone knows of.
FEWEST_MIN_CASES = 2
MOST_MIN_CASES = 1000


class HotSpotQuery(PeriodQuery):
    min_cases: int = Field(
        default=DEFAULT_MIN_CASES,
        ge=FEWEST_MIN_CASES,
        le=MOST_MIN_CASES,
        description="a group of at least this many cases in the period is a hot spot",
    )


class HotSpotOut(BaseModel):
    category: str | None
    kind: str | None
    township: str | None
    village: str | None = Field(description="null when the cases' addresses name no village")
    cases: int = Field(description="cases of this group submitted in the period")
    previous_cases: int = Field(description="cases of this group in the period before")
    reasons: list[Reason] = Field(
        description="`many`: at least min_cases; `rising`: grown sharply since the period before"
    )
    tracking_numbers: list[str] = Field(description="the cases, in the order they came")


class HotSpotsOut(BaseModel):
    period: PeriodOut
    previous_period: PeriodOut
    min_cases: int
    rise_factor: float
    min_rising_cases: int
    hot_spots: list[HotSpotOut]


def placed_cases(session: Session, period: Period) -> list[PlacedCase]:
    """The cases submitted in `period`, except those merged into another: a merged case is the
    matter of the case it joined, and counting both would make one event look like a pattern."""
    rows = session.execute(
        select(
            CaseFact.tracking_no,
            CaseFact.submitted_at,
            CaseFact.category,
            CaseFact.kind,
            CaseFact.township,
            CaseFact.village,
        ).where(period.holds(CaseFact.submitted_at), CaseFact.merged_at.is_(None))
    )
    return [
        PlacedCase(number, moment, category, kind, township, village)
        for number, moment, category, kind, township, village in rows
        if moment is not None
    ]


def cluster_counts(session: Session, period: Period) -> dict[Cluster, int]:
    """Each cluster's count of the cases `placed_cases` would give, counted by the database."""
    keys = (CaseFact.category, CaseFact.township, CaseFact.village, CaseFact.kind)
    rows = session.execute(
        select(*keys, func.count())
        .where(period.holds(CaseFact.submitted_at), CaseFact.merged_at.is_(None))
        .group_by(*keys)
    )
    return {Cluster(*key): int(count) for *key, count in rows}


def find_hot_spots(session: Session, period: Period, thresholds: Thresholds) -> list[HotSpot]:
    """The period's hot spots, ranked, from the read model."""
    return hot_spots(
        placed_cases(session, period),
        cluster_counts(session, previous_period(period)),
        thresholds,
    )


def _out(spot: HotSpot) -> HotSpotOut:
    return HotSpotOut(
        category=spot.cluster.category,
        kind=spot.cluster.kind,
        township=spot.cluster.township,
        village=spot.cluster.village,
        cases=spot.cases,
        previous_cases=spot.previous_cases,
        reasons=list(spot.reasons),
        tracking_numbers=list(spot.tracking_numbers),
    )


@router.get("/api/v1/reports/hotspots", response_model=HotSpotsOut)
def read_hot_spots(
    query: Annotated[HotSpotQuery, Query()], work: ReportingWork, _reader: ReportReader
) -> HotSpotsOut:
    """Cases clustered by category, place (village, else township) and kind, flagged when a
    cluster has many cases in the period or has grown sharply since the period before."""
    period = query.period
    before = previous_period(period)
    thresholds = Thresholds(min_cases=query.min_cases)
    return HotSpotsOut(
        period=PeriodOut.of(period),
        previous_period=PeriodOut.of(before),
        min_cases=thresholds.min_cases,
        rise_factor=thresholds.rise_factor,
        min_rising_cases=thresholds.fewest_rising,
        hot_spots=[_out(s) for s in find_hot_spots(work.session, period, thresholds)],
    )
