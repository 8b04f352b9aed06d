"""Deadline arithmetic: Chinese working days with their make-up days, hours, pauses, local days."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest
from prometheus_client import REGISTRY

from services.kernel.events.contracts import Kind
from services.kernel.workdays import LOCAL_TZ
from services.routing import deadlines
from services.routing.deadlines import (
    HOURS,
    WORKING_DAYS,
    DeadlinePolicy,
    DeadlinePolicyError,
    Escalation,
    Limit,
    add_working_days,
    due_at,
    end_of_day,
    fix_promise,
    is_working_day,
    load_policy,
    on_dispatched,
    on_extended,
    on_pause,
    on_resume,
    on_signed_for,
    parse_policy,
    resumed,
    schedule,
    start_of_day,
    working_days_between,
)
from services.routing.models import WorkOrder

THREE_DAYS = Limit(3, WORKING_DAYS)
THIRTEEN_DAYS = Limit(13, WORKING_DAYS)
DAY_HOURS = Limit(24, HOURS)


def local(*args: int) -> datetime:
    """A China Standard Time wall-clock moment, as the aware UTC time the code works in."""
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)  # type: ignore[misc]


def last_instant(day: date) -> datetime:
    return local(day.year, day.month, day.day, 23, 59, 59, 999999)


def test_a_deadline_in_working_days_ends_as_its_last_day_ends_in_china() -> None:
    due = due_at(THREE_DAYS, local(2026, 12, 1, 9, 0))
    assert due == last_instant(date(2026, 12, 4))
    assert due.astimezone(LOCAL_TZ).date() == date(2026, 12, 4)
    assert due == datetime(2026, 12, 4, 15, 59, 59, 999999, tzinfo=UTC)


def test_the_day_of_dispatch_is_the_local_day_not_the_utc_one() -> None:
    # 17:00 UTC on 30 November is already 1 December in China.
    assert due_at(THREE_DAYS, datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == last_instant(
        date(2026, 12, 4)
    )
    # 15:59 UTC is still 30 November there: one day earlier.
    assert due_at(THREE_DAYS, datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == last_instant(
        date(2026, 12, 3)
    )


@pytest.mark.parametrize(
    ("dispatched", "limit", "deadline"),
    [
        # Spring Festival 2025: holiday 28 Jan - 4 Feb; Sunday 26 Jan is a make-up working day.
        (local(2025, 1, 24, 10, 0), THREE_DAYS, date(2025, 2, 5)),
        # ... and Saturday 8 Feb 2025 too.
        (local(2025, 2, 7, 10, 0), Limit(1, WORKING_DAYS), date(2025, 2, 8)),
        # Spring Festival 2026: holiday 15-23 Feb; Saturdays 14 and 28 Feb are working days.
        (local(2026, 2, 13, 10, 0), THREE_DAYS, date(2026, 2, 25)),
        (local(2026, 2, 27, 10, 0), Limit(1, WORKING_DAYS), date(2026, 2, 28)),
        # National Day 2025: holiday 1-8 Oct; Sunday 28 Sep and Saturday 11 Oct are working days.
        (local(2025, 9, 26, 10, 0), THIRTEEN_DAYS, date(2025, 10, 21)),
        # National Day 2026: holiday 1-7 Oct; Saturday 10 Oct is a working day.
        (local(2026, 9, 30, 10, 0), THREE_DAYS, date(2026, 10, 10)),
    ],
    ids=[
        "spring-2025-make-up-sunday",
        "spring-2025-make-up-saturday",
        "spring-2026-make-up-saturday-before",
        "spring-2026-make-up-saturday-after",
        "national-day-2025-13-days",
        "national-day-2026-make-up-saturday",
    ],
)
def test_holidays_are_skipped_and_make_up_days_count(
    dispatched: datetime, limit: Limit, deadline: date
) -> None:
    assert due_at(limit, dispatched) == last_instant(deadline)


def test_the_calendar_days_these_tests_rely_on() -> None:
    assert is_working_day(date(2026, 2, 14))
    assert date(2026, 2, 14).weekday() == 5
    assert not is_working_day(date(2026, 2, 17))
    assert is_working_day(date(2025, 10, 11))
    assert not is_working_day(date(2025, 10, 8))


def test_a_deadline_in_hours_is_clock_time_holidays_or_not() -> None:
    # Saturday 3 October 2026, a holiday: 24 hours later all the same.
    dispatched = datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    assert due_at(DAY_HOURS, dispatched) == dispatched + timedelta(hours=24)


def test_the_promised_date_of_an_hours_deadline_is_its_local_date() -> None:
    order = new_order("complaint")
    # 17:00 UTC is 01:00 the next day in China.
    fix_promise(order, datetime(2026, 12, 1, 17, 0, tzinfo=UTC), major=True, policy=POLICY)
    assert order.due_at == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert order.deadline == date(2026, 12, 3)
    assert order.deadline_basis == HOURS


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadlines, "_warned_years", set())


def fallbacks(year: int) -> float:
    value = REGISTRY.get_sample_value(
        "minqing_deadline_calendar_fallbacks_total", {"year": str(year)}
    )
    return value or 0.0


@pytest.mark.usefixtures("fresh_warnings")
def test_beyond_the_published_years_weekdays_count_and_it_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert not deadlines.calendar_covers(2027)
    before = fallbacks(2027)
    with caplog.at_level(logging.WARNING, logger=deadlines.__name__):
        # Friday 25 Dec 2026: Dec 28-31 are 2026's, then 2027 counts Monday to Friday.
        first = due_at(THIRTEEN_DAYS, local(2026, 12, 25, 10, 0))
        second = due_at(THIRTEEN_DAYS, local(2026, 12, 28, 10, 0))
    assert first == last_instant(date(2027, 1, 13))
    assert second == last_instant(date(2027, 1, 14))
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert fallbacks(2027) > before


def test_within_the_published_years_nothing_falls_back() -> None:
    before = fallbacks(2026)
    due_at(THIRTEEN_DAYS, local(2026, 3, 2, 10, 0))
    assert fallbacks(2026) == before


def test_working_days_before_and_between() -> None:
    assert deadlines.working_days_before(date(2026, 2, 24), 1) == date(2026, 2, 14)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert add_working_days(date(2026, 12, 7), 0) == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("paused", "resumed_at", "days", "new_deadline"),
    [
        (local(2026, 12, 7, 10, 0), local(2026, 12, 7, 16, 0), 0, date(2026, 12, 18)),
        (local(2026, 12, 7, 10, 0), local(2026, 12, 9, 15, 0), 2, date(2026, 12, 22)),
        # Friday to Monday: the weekend stands still anyway, Monday is one day.
        (local(2026, 12, 11, 17, 0), local(2026, 12, 14, 9, 0), 1, date(2026, 12, 21)),
    ],
    ids=["same-day", "two-days", "over-a-weekend"],
)
def test_a_pause_moves_the_deadline_by_the_working_days_it_lasted(
    paused: datetime, resumed_at: datetime, days: int, new_deadline: date
) -> None:
    due = last_instant(date(2026, 12, 18))
    assert resumed(due, WORKING_DAYS, paused, resumed_at) == (last_instant(new_deadline), days)


def test_a_pause_over_the_spring_festival_counts_only_its_working_days() -> None:
    due = last_instant(date(2026, 3, 2))
    moved, days = resumed(due, WORKING_DAYS, local(2026, 2, 13, 9, 0), local(2026, 2, 25, 9, 0))
    # Saturday 14 Feb (make-up), 24 and 25 Feb.
    assert days == 3
    assert moved == last_instant(date(2026, 3, 5))


def test_a_pause_of_an_hours_deadline_moves_it_by_the_clock_time() -> None:
    due = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    paused = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    moved, _ = resumed(due, HOURS, paused, paused + timedelta(hours=5, minutes=30))
    assert moved == due + timedelta(hours=5, minutes=30)


def test_escalation_runs_on_the_working_days_around_the_deadline() -> None:
    planned = schedule(last_instant(date(2026, 9, 30)), WORKING_DAYS, Escalation())
    assert planned.remind_at == start_of_day(date(2026, 9, 29))
    # The day after the deadline is a holiday: urged on the first working day after it.
    assert planned.urge_at == start_of_day(date(2026, 10, 8))
    # Three working days after: 8, 9 and Saturday 10 October.
    assert planned.supervise_at == start_of_day(date(2026, 10, 10))
    assert planned.urge_at == datetime(2026, 10, 7, 16, 0, tzinfo=UTC)


def test_escalation_of_an_hours_deadline_is_in_hours() -> None:
    due = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    planned = schedule(due, HOURS, Escalation(remind_hours_before=4, supervise_hours_after=12))
    assert planned.remind_at == due - timedelta(hours=4)
    assert planned.supervise_at == due + timedelta(hours=12)


POLICY = DeadlinePolicy(
    {**dict.fromkeys(get_args(Kind), THIRTEEN_DAYS), "consultation": THREE_DAYS}
    | {"major": DAY_HOURS},
    Escalation(),
)


def new_order(kind: str) -> WorkOrder:
    return WorkOrder(id=uuid.uuid4(), kind=kind, status="dispatched", deadline=date(2026, 1, 1))


def test_the_clock_pauses_resumes_and_takes_an_extension() -> None:
    order = new_order("complaint")
    fix_promise(order, local(2026, 12, 1, 9, 0), policy=POLICY)
    assert order.deadline == date(2026, 12, 18)
    assert order.remind_at == start_of_day(date(2026, 12, 17))

    on_pause(order, local(2026, 12, 7, 10, 0))
    on_pause(order, local(2026, 12, 8, 10, 0))  # already paused: the first moment stands
    on_resume(order, local(2026, 12, 9, 15, 0))
    assert order.paused_at is None
    assert order.paused_working_days == 2
    assert order.due_at == last_instant(date(2026, 12, 22))
    assert order.deadline == date(2026, 12, 22)
    assert order.urge_at == start_of_day(date(2026, 12, 23))

    order.reminded_at = local(2026, 12, 21, 0, 0)
    on_extended(order, date(2027, 1, 8), local(2026, 12, 21, 10, 0))
    assert order.due_at == last_instant(date(2027, 1, 8))
    assert order.deadline == date(2027, 1, 8)
    assert order.reminded_at is None  # the new date gets its own reminder


def test_resuming_an_order_that_was_not_paused_changes_nothing() -> None:
    order = new_order("complaint")
    fix_promise(order, local(2026, 12, 1, 9, 0), policy=POLICY)
    due = order.due_at
    on_resume(order, local(2026, 12, 9, 9, 0))
    assert order.due_at == due


def test_signing_for_keeps_the_promise_made_at_dispatch() -> None:
    order = new_order("consultation")
    fix_promise(order, local(2026, 12, 1, 9, 0), policy=POLICY)
    promised = order.due_at
    on_signed_for(order, local(2026, 12, 2, 9, 0))
    assert order.due_at == promised
    on_dispatched(order, local(2026, 12, 3, 9, 0))  # re-dispatched: the promise stands
    assert order.due_at == promised
    unpromised = new_order("consultation")
    on_signed_for(unpromised, local(2026, 12, 2, 9, 0))
    assert unpromised.deadline == date(2026, 12, 7)


def test_the_catalogue_sets_a_limit_for_every_kind_and_major_matters() -> None:
    policy = load_policy()
    for kind in get_args(Kind):
        assert policy.limit_for(kind).basis == WORKING_DAYS
    assert policy.limit_for("consultation") == THREE_DAYS
    assert policy.limit_for("complaint") == THIRTEEN_DAYS
    assert policy.limit_for("praise", major=True) == DAY_HOURS


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[deadlines.limits]\nmajor = { hours = 24 }\n", "no limit for"),
        (
            "[deadlines.limits]\n"
            + "\n".join(f'"{k}" = {{ working_days = 3, hours = 2 }}' for k in get_args(Kind))
            + "\nmajor = { hours = 24 }\n",
            "exactly one of",
        ),
        ("[departments]\n", "deadlines"),
        (
            "[deadlines.limits]\n"
            + "\n".join(f'"{k}" = {{ working_days = 0 }}' for k in get_args(Kind))
            + "\nmajor = { hours = 24 }\n",
            "more than zero",
        ),
    ],
    ids=["missing-kinds", "two-units", "no-table", "zero"],
)
def test_a_malformed_deadlines_table_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(DeadlinePolicyError, match=complaint):
        parse_policy(text)


def test_end_of_day_is_still_that_day_in_china() -> None:
    assert end_of_day(date(2026, 12, 4)).astimezone(LOCAL_TZ).date() == date(2026, 12, 4)
    assert end_of_day(date(2026, 12, 4)) + timedelta(microseconds=1) == start_of_day(
        date(2026, 12, 5)
    )
