"""The leaders' page, `/reports`: a period's main figures, charts and hot spots on one screen.

The charts are SVG drawn on the server from the geometry computed below, so the page needs no
script and no library from anywhere: it works on a locked-down office network as it is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.auth import Role, staff_or_none
from services.kernel.clock import utcnow
from services.kernel.http import field_errors
from services.kernel.pages import Pages, page_language
from services.kernel.workdays import local_date
from services.reporting.api import ReportingWork
from services.reporting.hotspots import Thresholds
from services.reporting.hotspots_api import find_hot_spots
from services.reporting.kpis import Filters, Period, figures
from services.reporting.models import CaseFact
from services.reporting.period_query import PeriodQuery

router = APIRouter(tags=["reporting"])
pages = Pages(Path(__file__).with_name("templates"))
READERS: tuple[Role, ...] = ("supervisor", "admin")

CHANNEL_LABELS = {
    "hotline": ("热线电话", "Hotline"),
    "web": ("网站", "Web"),
    "email": ("电子邮件", "Email"),
    "visit": ("走访", "Field visit"),
    "open311": ("Open311", "Open311"),
    "sms": ("短信", "SMS"),
}
KIND_LABELS = {
    "consultation": ("咨询", "consultation"),
    "help": ("求助", "help"),
    "complaint": ("投诉", "complaint"),
    "tip-off": ("举报", "tip-off"),
    "suggestion": ("建议", "suggestion"),
    "praise": ("表扬", "praise"),
}
# The page shows hot spots by the API's defaults; the API lets a reader lower the bar.
HOT_SPOTS = Thresholds()
# A bar chart shows the largest this many; the rest are summed into one bar.
MOST_BARS = 12


def this_month(today: date) -> Period:
    """From the first of `today`'s month to `today`: the days there are figures for."""
    return Period(today.replace(day=1), today)


@dataclass(frozen=True)
class Received:
    """What the charts need of a case received in the period."""

    channel: str | None
    department: str | None
    submitted_at: datetime


def received_cases(session: Session, period: Period) -> list[Received]:
    rows = session.execute(
        select(
            CaseFact.channel,
            CaseFact.department_name,
            CaseFact.department_code,
            CaseFact.submitted_at,
        ).where(period.holds(CaseFact.submitted_at))
    )
    return [
        Received(channel, name or code, moment)
        for channel, name, code, moment in rows
        if moment is not None
    ]


def tally(keys: Iterable[str | None], most: int = MOST_BARS) -> list[tuple[str | None, int]]:
    """Counts by key, largest first (ties by key); beyond `most` bars, the smallest are summed
    under the key None ("other")."""
    counted = sorted(Counter(keys).items(), key=lambda kv: (-kv[1], kv[0] or "\uffff"))
    if len(counted) <= most:
        return counted
    kept = counted[: most - 1]
    return [*kept, (None, sum(count for _, count in counted[most - 1 :]))]


def daily(moments: Iterable[datetime], period: Period) -> list[tuple[date, int]]:
    """Cases per day of the period, China Standard Time, a day with none at zero."""
    per_day = Counter(local_date(moment) for moment in moments)
    days = (period.last - period.first).days + 1
    return [(day, per_day[day]) for day in (period.first + timedelta(n) for n in range(days))]


@dataclass(frozen=True)
class Bar:
    key: str | None
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int


def bar_chart(
    items: Sequence[tuple[str | None, int]],
    width: int = 480,
    label_width: int = 150,
    bar_height: int = 22,
    gap: int = 8,
) -> BarChart:
    """Horizontal bars, one row per item, the largest value filling the plot (room is left on
    the right for the number)."""
    plot = width - label_width - 48
    top = max((value for _, value in items), default=0) or 1
    bars = tuple(
        Bar(key, value, row * (bar_height + gap), plot * value / top)
        for row, (key, value) in enumerate(items)
    )
    height = max(len(items), 1) * (bar_height + gap)
    return BarChart(bars, width, height, label_width, bar_height)


@dataclass(frozen=True)
class Dot:
    day: date
    value: int
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    label: str
    position: float


@dataclass(frozen=True)
class LineChart:
    dots: tuple[Dot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    width: int
    height: int
    left: int
    bottom: int

    @property
    def points(self) -> str:
        """The SVG polyline's `points`."""
        return " ".join(f"{dot.x:.1f},{dot.y:.1f}" for dot in self.dots)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … not below `value`: a round top for an axis."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def line_chart(
    days: Sequence[tuple[date, int]],
    width: int = 640,
    height: int = 200,
    left: int = 40,
    bottom: int = 24,
    top_margin: int = 8,
) -> LineChart:
    """A line through each day's count; the y axis from 0 to a round number, the x axis
    labelled about once a week."""
    top = nice_ceiling(max((value for _, value in days), default=0))
    plot_width = width - left - 8
    plot_height = height - bottom - top_margin
    step = plot_width / max(len(days) - 1, 1)

    def y_of(value: float) -> float:
        return top_margin + plot_height * (1 - value / top)

    dots = tuple(
        Dot(day, value, left + i * step, y_of(value)) for i, (day, value) in enumerate(days)
    )
    y_values = sorted({0, top // 2, top}) if top > 1 else [0, 1]
    every = max(1, math.ceil(len(days) / 6))
    x_ticks = tuple(
        Tick(dot.day.strftime("%m-%d"), dot.x)
        for i, dot in enumerate(dots)
        if i % every == 0 or i == len(dots) - 1
    )
    return LineChart(
        dots,
        tuple(Tick(str(value), y_of(value)) for value in y_values),
        x_ticks,
        width,
        height,
        left,
        bottom,
    )


def percent(rate: float | None) -> str:
    """A rate as leaders read it, 87.5%; a rate over no cases as a dash."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _period_asked(request: Request, today: date) -> tuple[Period, dict[str, str]]:
    """The period the form asks for, or this month with the form's errors by field."""
    params = request.query_params
    if not params.get("from") and not params.get("to"):
        return this_month(today), {}
    try:
        asked = PeriodQuery.model_validate({"from": params.get("from"), "to": params.get("to")})
    except ValidationError as error:
        found = field_errors(error.errors(include_url=False), page_language(request))
        return this_month(today), {e["field"]: e["message"] for e in found}
    return asked.period, {}


def dashboard_context(session: Session, period: Period) -> Mapping[str, Any]:
    cases = received_cases(session, period)
    return {
        "period": period,
        "figures": figures(session, period, Filters()),
        "by_channel": bar_chart(tally(case.channel for case in cases)),
        "by_department": bar_chart(tally(case.department for case in cases)),
        "per_day": line_chart(daily((case.submitted_at for case in cases), period)),
        "hot_spots": find_hot_spots(session, period, HOT_SPOTS),
        "thresholds": HOT_SPOTS,
        "channel_labels": CHANNEL_LABELS,
        "kind_labels": KIND_LABELS,
        "percent": percent,
    }


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, work: ReportingWork) -> Response:
    """The leaders' dashboard for the period asked (this month by default)."""
    staff = staff_or_none(request)
    if staff is None:
        target = quote(str(request.url.path), safe="/")
        return RedirectResponse(f"/staff/login?next={target}", status_code=303)
    if not staff.has(*READERS):
        return pages.render(request, "dashboard_forbidden.html", {"staff": staff}, 403)
    period, errors = _period_asked(request, local_date(utcnow()))
    context = {"staff": staff, "errors": errors, **dashboard_context(work.session, period)}
    return pages.render(request, "dashboard.html", context, status_code=422 if errors else 200)
