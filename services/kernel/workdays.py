"""Working days on the Chinese calendar (holidays, make-up days) and the promise per kind."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Working days the county promises for a reply, by kind of case.
TIME_LIMITS: dict[str, int] = {
    "consultation": 3,
    "help": 5,
    "complaint": 13,
    "suggestion": 13,
    "tip-off": 13,
    "praise": 5,
}


@functools.lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """True on a working day, make-up Saturdays and Sundays (调休) included."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Beyond the years the calendar package has published: weekdays only.
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days after `start` (`start` itself does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def promised_date(kind: str, submitted_at: datetime) -> date:
    """The reply date promised to the citizen when the case is accepted."""
    return add_working_days(local_date(submitted_at), TIME_LIMITS[kind])
