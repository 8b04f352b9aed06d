"""The citizen's time and limits: quiet hours, the daily cap, opt-outs, and reading replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.kernel.workdays import LOCAL_TZ
from services.notify import policy
from services.notify.policy import Meaning, meaning_of, national_number, plan, release_time

QUIET = (time(21), time(8))


def local(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def planned(
    template: str, at: datetime, *, counted: int = 0, opted_out: bool = False
) -> policy.Plan:
    return plan(
        template,
        now=at,
        quiet=QUIET,
        cap=50,
        tz=LOCAL_TZ,
        opted_out=opted_out,
        counted_on=lambda day: counted,
    )


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False)],
)
def test_quiet_hours_run_from_nine_at_night_to_eight_in_the_morning(
    hour: int, minute: int, quiet: bool
) -> None:
    assert policy.in_quiet_hours(time(hour, minute), QUIET) is quiet


def test_a_window_within_one_day_is_understood_too() -> None:
    assert policy.in_quiet_hours(time(13), (time(12), time(14)))
    assert not policy.in_quiet_hours(time(15), (time(12), time(14)))


def test_a_message_in_the_evening_waits_for_eight_the_next_morning() -> None:
    assert release_time(local(22, 15), QUIET, LOCAL_TZ) == local(8, day=2)


def test_a_message_after_midnight_waits_for_eight_the_same_morning() -> None:
    assert release_time(local(2, 0, day=2), QUIET, LOCAL_TZ) == local(8, day=2)


def test_daytime_and_no_quiet_hours_send_at_once() -> None:
    assert release_time(local(10), QUIET, LOCAL_TZ) == local(10)
    assert release_time(local(23), None, LOCAL_TZ) == local(23)


def test_a_step_notice_at_night_is_held_and_counts_on_the_day_it_goes() -> None:
    decided = planned("case_dispatched", local(22))
    assert decided == policy.Plan(policy.HELD, local(8, day=2), date(2026, 12, 2))


def test_urgent_messages_go_at_once_at_night() -> None:
    for template in ("case_received", policy.STATUS_REPLY, "major_alert"):
        assert planned(template, local(23)) == policy.Plan(policy.QUEUED, None, date(2026, 12, 1))


def test_beyond_the_daily_cap_a_notice_waits_for_the_next_mornings_digest() -> None:
    assert planned("case_dispatched", local(10), counted=49).status == policy.QUEUED
    decided = planned("case_dispatched", local(10), counted=50)
    assert decided == policy.Plan(policy.CAPPED, local(8, day=2), None)


def test_urgent_messages_and_notices_to_staff_are_never_capped() -> None:
    assert planned("case_received", local(10), counted=80).status == policy.QUEUED
    assert planned("work_order_arrived", local(10), counted=80).status == policy.QUEUED


def test_an_opted_out_number_gets_only_essential_messages() -> None:
    assert planned("case_dispatched", local(10), opted_out=True).status == policy.SUPPRESSED
    assert planned("case_resolved", local(10), opted_out=True).status == policy.SUPPRESSED
    for essential in ("case_received", "case_material_requested", policy.OPT_OUT_CONFIRMED):
        assert planned(essential, local(10), opted_out=True).status == policy.QUEUED
    # Duty notices to staff are not theirs to decline.
    assert planned("work_order_arrived", local(10), opted_out=True).status == policy.QUEUED


@pytest.mark.parametrize("text", ["TD", "td", " T D ", "退订", "ＴＤ", "STOP", "stop!", "0000"])
def test_opt_out_words_are_read_whatever_their_case_width_and_spacing(text: str) -> None:
    assert meaning_of(text) == Meaning("opt-out")


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("1", "satisfied"),
        ("１", "satisfied"),
        ("满意", "satisfied"),
        ("2。", "basically-satisfied"),
        ("基本满意", "basically-satisfied"),
        ("3", "dissatisfied"),
        ("不满意", "dissatisfied"),
        ("3 不满意", "dissatisfied"),
    ],
)
def test_ratings_are_read_from_the_digit_or_the_word(text: str, rating: str) -> None:
    assert meaning_of(text) == Meaning("rating", rating)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["JD", "jd", "进度", "查询进度"])
def test_status_questions_are_recognised(text: str) -> None:
    assert meaning_of(text) == Meaning("status")


@pytest.mark.parametrize(
    "text", ["路灯还是不亮，请尽快处理", "1号楼还在漏水", "TD的意思是什么", "不满意，没人来看过"]
)
def test_anything_more_than_a_keyword_is_the_citizens_message(text: str) -> None:
    assert meaning_of(text) == Meaning("message")


@pytest.mark.parametrize(
    "sender", ["13812345678", "+8613812345678", "8613812345678", "0086 138 1234 5678"]
)
def test_senders_are_read_as_national_numbers(sender: str) -> None:
    assert national_number(sender) == "13812345678"
