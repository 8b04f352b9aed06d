"""Deadlines: working days on the Chinese calendar, the limit per kind, and a work order's clock.

A deadline in working days counts the days after dispatch that are working days on the Chinese
calendar, make-up working days (调休) included, and ends when the last of them ends in China
Standard Time. A major matter's deadline is hours of clock time. Times are UTC throughout; only a
day is local. The pure functions take the policy and times; the clock functions at the bottom
apply them to a work order's clock columns, and are what the lifecycle calls.
"""

from __future__ import annotations

import functools
import logging
import threading
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, get_args

import chinese_calendar
from prometheus_client import Counter

from services.kernel import workdays
from services.kernel.events.contracts import Kind
from services.kernel.workdays import LOCAL_TZ, local_date
from services.routing.catalogue import DEFAULT_CATALOGUE
from services.routing.models import WorkOrder

log = logging.getLogger(__name__)

Basis = Literal["working-days", "hours"]
WORKING_DAYS: Basis = "working-days"
HOURS: Basis = "hours"
# The limit that applies to a major matter (重大事项), whatever its kind.
MAJOR = "major"

CALENDAR_FALLBACKS = Counter(
    "minqing_deadline_calendar_fallbacks_total",
    "Days judged Monday to Friday because the calendar package has no holidays for their year",
    ["year"],
)
_warned_years: set[int] = set()
_warned_lock = threading.Lock()


class DeadlinePolicyError(ValueError):
    """The catalogue's [deadlines] table is missing or malformed."""


@dataclass(frozen=True)
class Limit:
    amount: int
    basis: Basis


@dataclass(frozen=True)
class Escalation:
    """When the scan reminds, urges and supervises, relative to the deadline."""

    remind_working_days_before: int = 1
    urge_working_days_after: int = 1
    supervise_working_days_after: int = 3
    remind_hours_before: int = 4
    urge_hours_after: int = 1
    supervise_hours_after: int = 12


@dataclass(frozen=True)
class DeadlinePolicy:
    limits: dict[str, Limit]
    escalation: Escalation

    def limit_for(self, kind: str, *, major: bool = False) -> Limit:
        return self.limits[MAJOR if major else kind]


@dataclass(frozen=True)
class Schedule:
    """The moments at which the scan reminds, urges and supervises one order."""

    remind_at: datetime
    urge_at: datetime
    supervise_at: datetime


def parse_policy(text: str) -> DeadlinePolicy:
    """The [deadlines] table of the catalogue file: a limit for every kind and for major matters."""
    try:
        table = tomllib.loads(text)["deadlines"]
        limits = {name: _limit(name, raw) for name, raw in table["limits"].items()}
        escalation = Escalation(**table.get("escalation", {}))
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise DeadlinePolicyError(f"deadlines: {exc}") from exc
    missing = {*get_args(Kind), MAJOR} - limits.keys()
    if missing:
        raise DeadlinePolicyError(f"deadlines: no limit for {', '.join(sorted(missing))}")
    if min(vars(escalation).values()) < 0:
        raise DeadlinePolicyError("deadlines: escalation offsets cannot be negative")
    return DeadlinePolicy(limits, escalation)


def _limit(name: str, raw: dict[str, int]) -> Limit:
    if set(raw) == {"working_days"}:
        limit = Limit(int(raw["working_days"]), WORKING_DAYS)
    elif set(raw) == {"hours"}:
        limit = Limit(int(raw["hours"]), HOURS)
    else:
        raise DeadlinePolicyError(f"deadlines: {name} needs exactly one of working_days or hours")
    if limit.amount <= 0:
        raise DeadlinePolicyError(f"deadlines: {name} must be more than zero")
    return limit


@functools.cache
def load_policy(path: Path = DEFAULT_CATALOGUE) -> DeadlinePolicy:
    return parse_policy(path.read_text(encoding="utf-8"))


@functools.cache
def calendar_covers(year: int) -> bool:
    """Whether the State Council's holidays for `year` are in the calendar package yet."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """A working day on the Chinese calendar; Monday to Friday, said so, beyond its years."""
    if not calendar_covers(day.year):
        _fell_back(day.year)
    return workdays.is_working_day(day)


def _fell_back(year: int) -> None:
    # Counted for every day so judged; told in the log once a year per process, not per day.
    CALENDAR_FALLBACKS.labels(str(year)).inc()
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning(
        "the holiday calendar has no data for %s: counting Monday to Friday as working days "
        "until a newer chinesecalendar is installed",
        year,
    )


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days after `start`, which itself does not count."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_working_day(day)
    return day


def working_days_before(day: date, days: int) -> date:
    """The working day `days` working days before `day`."""
    while days > 0:
        day -= timedelta(days=1)
        days -= is_working_day(day)
    return day


def working_days_between(first: date, last: date) -> int:
    """Working days after `first` up to and including `last`."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a China Standard Time day, in UTC."""
    return datetime.combine(day, time.min, LOCAL_TZ).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """The last instant of a China Standard Time day, in UTC: its local date is still `day`."""
    return datetime.combine(day, time.max, LOCAL_TZ).astimezone(UTC)


def due_at(limit: Limit, start: datetime) -> datetime:
    """When a deadline of `limit` counted from `start` runs out."""
    if limit.basis == HOURS:
        return start + timedelta(hours=limit.amount)
    return end_of_day(add_working_days(local_date(start), limit.amount))


def schedule(due: datetime, basis: Basis, escalation: Escalation) -> Schedule:
    """Reminders before the deadline; urge and supervision on the working days after it."""
    if basis == HOURS:
        return Schedule(
            remind_at=due - timedelta(hours=escalation.remind_hours_before),
            urge_at=due + timedelta(hours=escalation.urge_hours_after),
            supervise_at=due + timedelta(hours=escalation.supervise_hours_after),
        )
    day = local_date(due)
    return Schedule(
        remind_at=start_of_day(working_days_before(day, escalation.remind_working_days_before)),
        urge_at=start_of_day(add_working_days(day, escalation.urge_working_days_after)),
        supervise_at=start_of_day(add_working_days(day, escalation.supervise_working_days_after)),
    )


def resumed(
    due: datetime, basis: Basis, paused_at: datetime, now: datetime
) -> tuple[datetime, int]:
    """The deadline after a pause from `paused_at` to `now`, and the working days it stood still.

    On working days, a pause stops the clock for each working day it reaches into after the day
    it began: asking the citizen for material and getting it the same day costs no day.
    """
    if basis == HOURS:
        return due + (now - paused_at), 0
    days = working_days_between(local_date(paused_at), local_date(now))
    return end_of_day(add_working_days(local_date(due), days)), days


# The clock on a work order: the only functions that write its clock columns.


def fix_promise(
    order: WorkOrder, now: datetime, *, major: bool = False, policy: DeadlinePolicy | None = None
) -> None:
    """Start the department's clock at dispatch and fix the date promised to the citizen."""
    policy = policy or load_policy()
    limit = policy.limit_for(order.kind, major=major)
    order.deadline_basis = limit.basis
    _set_due(order, due_at(limit, now), policy)


def on_dispatched(order: WorkOrder, now: datetime, *, major: bool = False) -> None:
    """Dispatch, by a rule or by the dispatcher, fixes the promise once; a re-dispatch keeps it."""
    if order.due_at is None:
        fix_promise(order, now, major=major)


def on_signed_for(order: WorkOrder, now: datetime) -> None:
    """Signing for starts the department's work, not a new clock: the limit runs from dispatch.

    The promise to the citizen was made at dispatch, so a late signature eats into the
    department's time rather than moving the citizen's date. An order dispatched without a
    promise (before deadlines were kept) gets one now.
    """
    on_dispatched(order, now)


def on_pause(order: WorkOrder, now: datetime) -> None:
    """Awaiting the citizen (补正): the clock stops."""
    if order.due_at is not None and order.paused_at is None:
        order.paused_at = now


def on_resume(order: WorkOrder, now: datetime) -> None:
    """Material added: the clock goes on, the deadline moved by the working time paused."""
    if order.due_at is None or order.paused_at is None:
        return
    due, days = resumed(order.due_at, _basis(order), order.paused_at, now)
    order.paused_at = None
    order.paused_working_days = (order.paused_working_days or 0) + days
    _set_due(order, due, load_policy())


def on_extended(order: WorkOrder, new_due: date, now: datetime) -> None:
    """An approved extension (延期): the new date is promised, and reminded of, afresh."""
    # The new date was set knowing of any pause so far: only a pause from now on moves it.
    if order.paused_at is not None:
        order.paused_at = now
    order.reminded_at = None
    _set_due(order, end_of_day(new_due), load_policy())


def _basis(order: WorkOrder) -> Basis:
    return HOURS if order.deadline_basis == HOURS else WORKING_DAYS


def _set_due(order: WorkOrder, due: datetime, policy: DeadlinePolicy) -> None:
    planned = schedule(due, _basis(order), policy.escalation)
    order.due_at = due
    order.deadline = local_date(due)
    order.remind_at = planned.remind_at
    order.urge_at = planned.urge_at
    order.supervise_at = planned.supervise_at
