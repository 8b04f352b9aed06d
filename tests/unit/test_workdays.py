"""Working days on the Chinese calendar, and the reply date promised for each kind of case."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import get_args

import chinese_calendar
import pytest

from services.kernel.events.contracts import Kind
from services.kernel.workdays import (
    TIME_LIMITS,
    add_working_days,
    is_working_day,
    local_date,
    promised_date,
)


def test_the_calendar_dates_these_tests_rely_on() -> None:
    assert not chinese_calendar.is_workday(date(2025, 10, 1))
    assert not chinese_calendar.is_workday(date(2025, 10, 8))
    assert chinese_calendar.is_workday(date(2025, 9, 28))
    assert chinese_calendar.is_workday(date(2025, 10, 11))


def test_weekend_is_skipped() -> None:
    assert add_working_days(date(2025, 11, 14), 1) == date(2025, 11, 17)
    assert add_working_days(date(2025, 11, 15), 1) == date(2025, 11, 17)


def test_start_day_itself_does_not_count() -> None:
    assert add_working_days(date(2025, 11, 17), 1) == date(2025, 11, 18)
    assert add_working_days(date(2025, 11, 17), 0) == date(2025, 11, 17)


def test_week_of_working_days_spans_one_weekend() -> None:
    assert add_working_days(date(2025, 11, 17), 5) == date(2025, 11, 24)


def test_national_day_holiday_is_skipped() -> None:
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


@pytest.mark.parametrize(
    ("start", "expected"),
    [(date(2025, 9, 26), date(2025, 9, 28)), (date(2025, 10, 10), date(2025, 10, 11))],
    ids=["make-up-sunday-2025-09-28", "make-up-saturday-2025-10-11"],
)
def test_make_up_weekend_working_day_counts(start: date, expected: date) -> None:
    assert is_working_day(expected)
    assert add_working_days(start, 1) == expected


def test_holiday_and_make_up_day_together() -> None:
    # 9-28 (make-up Sunday), 9-29, 9-30, then the holiday until 10-08, then 10-09.
    assert add_working_days(date(2025, 9, 26), 4) == date(2025, 10, 9)


def test_spring_festival_2026_is_skipped() -> None:
    # 2026-02-14 is a make-up Saturday; the holiday runs 02-15..02-23.
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_years_beyond_the_published_calendar_fall_back_to_weekdays() -> None:
    assert is_working_day(date(2100, 1, 1))
    assert not is_working_day(date(2100, 1, 2))
    assert add_working_days(date(2100, 1, 1), 1) == date(2100, 1, 4)


def test_local_date_is_the_shanghai_calendar_day() -> None:
    assert local_date(datetime(2026, 11, 26, 18, 0, tzinfo=UTC)) == date(2026, 11, 27)
    assert local_date(datetime(2026, 11, 26, 15, 59, tzinfo=UTC)) == date(2026, 11, 26)


def test_promised_date_counts_from_the_local_day_of_submission() -> None:
    # 02:00 on Friday 27 November in Shanghai; three working days later is Wednesday.
    submitted_at = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)

    assert promised_date("consultation", submitted_at) == date(2026, 12, 2)


def test_complaint_gets_thirteen_working_days_across_national_day() -> None:
    # 2026-10-01..07 are holidays; 2026-10-10 is a make-up Saturday.
    submitted_at = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)

    assert promised_date("complaint", submitted_at) == date(2026, 10, 23)


def test_every_kind_of_case_has_a_time_limit() -> None:
    assert set(get_args(Kind)) <= TIME_LIMITS.keys()
    assert all(days > 0 for days in TIME_LIMITS.values())
