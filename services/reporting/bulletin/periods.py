"""Which bulletins are due: last week's on Mondays, last month's on the 1st, in China time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from services.kernel.workdays import LOCAL_TZ
from services.reporting.kpis import Period

Schedule = Literal["weekly", "monthly"]
SCHEDULES: tuple[Schedule, ...] = ("weekly", "monthly")
# A period's last events may still be on the bus when it ends: its bulletin waits this long.
SETTLE = timedelta(hours=1)


def last_week(today: date) -> Period:
    """Monday to Sunday of the week before the one `today` is in."""
    monday = today - timedelta(days=today.weekday() + 7)
    return Period(monday, monday + timedelta(days=6))


def last_month(today: date) -> Period:
    """The calendar month before the one `today` is in."""
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def latest_period(schedule: Schedule, now: datetime) -> Period:
    """The schedule's most recent period that ended, and settled, before `now`."""
    today = (now.astimezone(LOCAL_TZ) - SETTLE).date()
    return last_week(today) if schedule == "weekly" else last_month(today)


def schedule_key(schedule: Schedule, period: Period) -> str:
    """What names a scheduled bulletin once, however many processes produce it."""
    return f"{schedule}:{period.first.isoformat()}"


def due(now: datetime, schedules: tuple[Schedule, ...] = SCHEDULES) -> list[tuple[str, Period]]:
    """Each schedule's latest period with its key. Only the latest: after a long stop the
    service catches up on the last week and month, not on every one it missed."""
    return [
        (schedule_key(schedule, period), period)
        for schedule in schedules
        for period in [latest_period(schedule, now)]
    ]
