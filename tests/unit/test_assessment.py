"""Scoring departments and officials by the assessment rules, checked against sums done by hand;
every point comes with the cases and the facts that earned it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.reporting.assessment import (
    Case,
    Return,
    Rule,
    assess,
    configured_rules,
    score,
    score_rule,
    working_days_between,
)
from services.reporting.kpis import Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def case(tracking_no: str, **facts: object) -> Case:
    defaults: dict[str, object] = {"department_code": "trans", "department_name": "交通运输局"}
    return Case(tracking_no, **{**defaults, **facts})


def resolved(tracking_no: str, day: int, deadline: int | None, **facts: object) -> Case:
    """Resolved at 02:00 UTC (10:00 in China) on `day` of November, due on `deadline`."""
    on_time = None if deadline is None else day <= deadline
    return case(
        tracking_no,
        resolved_at=at(11, day, 2),
        deadline=None if deadline is None else date(2026, 11, deadline),
        resolved_on_time=on_time,
        **facts,
    )


ON_TIME = Rule("on-time", "按时办结", "On time", "resolved-with-deadline", "on-time", weight=30)
LATE = Rule("late", "超期办结", "Late", "resolved-with-deadline", "late", points=-2, cap=5)
REHANDLES = Rule("rehandles", "重办", "Re-handles", "resolved", "rehandled", points=-3, per="each")
REVISITED = Rule("revisits", "回访", "Revisits", "resolved", "revisited", points=1)
RETURNS = Rule("returns", "退单", "Returns", "dispatched", "returned", points=-1, per="each")
EDU = Return("edu")
WATER = Return("water", "水务局")


def test_a_rate_rule_gives_its_weight_times_the_share_and_lists_every_case_it_looked_at() -> None:
    cases = [resolved("N-1", 4, 10), resolved("N-2", 16, 10), resolved("N-3", 5, 10)]
    result = score_rule(ON_TIME, cases, NOVEMBER)
    # Two of three on time: 30 × 2/3 = 20, 10 for each of them.
    assert result.points == pytest.approx(20)
    assert (result.looked_at, result.met, result.rate) == (3, 2, pytest.approx(2 / 3))
    assert [(e.tracking_no, e.times, e.points) for e in result.cases] == [
        ("N-1", 1, pytest.approx(10)),
        ("N-2", 0, 0.0),
        ("N-3", 1, pytest.approx(10)),
    ]


def test_a_rate_over_no_cases_gives_no_points_and_an_unknown_rate() -> None:
    result = score_rule(ON_TIME, [resolved("N-1", 4, None)], NOVEMBER)
    assert (result.points, result.rate, result.looked_at, result.cases) == (0.0, None, 0, ())


def test_a_late_case_says_by_how_many_days_and_working_days_against_which_deadline() -> None:
    # Due Tuesday the 10th, resolved Monday the 16th in China: 6 days, 4 of them working days.
    late = case(
        "N-7",
        resolved_at=at(11, 15, 16),
        deadline=date(2026, 11, 10),
        resolved_on_time=False,
    )
    (earned,) = score_rule(LATE, [late], NOVEMBER).cases
    assert earned.points == -2
    assert (
        earned.fact.en
        == "resolved on 2026-11-16, 6 days (4 working days) after its deadline 2026-11-10"
    )
    assert earned.fact.zh == "2026-11-16 办结，超过办理期限 2026-11-10 共 6 天（4 个工作日）"
    assert earned.fact.details == {
        "resolved_on": "2026-11-16",
        "deadline": "2026-11-10",
        "days_late": 6,
        "working_days_late": 4,
    }


def test_working_days_skip_weekends_and_holidays() -> None:
    assert working_days_between(date(2026, 11, 10), date(2026, 11, 16)) == 4
    assert working_days_between(date(2026, 11, 10), date(2026, 11, 10)) == 0
    # National Day week: 1 to 7 October 2026 are holidays.
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_a_cap_bounds_the_rule_but_every_case_stays_listed() -> None:
    cases = [resolved(f"N-{n}", 20, 10) for n in range(1, 5)]
    result = score_rule(LATE, cases, NOVEMBER)
    # Four late cases, -2 each, is -8; the rule takes at most 5.
    assert (result.points, result.uncapped, result.capped) == (-5, -8, True)
    assert [e.tracking_no for e in result.cases] == ["N-1", "N-2", "N-3", "N-4"]


def test_per_each_counts_every_rehandle_and_per_case_counts_a_case_once() -> None:
    twice = resolved("N-1", 4, 10, rehandles=2, revisits=3, revisited_at=at(11, 5))
    never = resolved("N-2", 4, 10)
    rehandles = score_rule(REHANDLES, [twice, never], NOVEMBER)
    assert (rehandles.points, [(e.tracking_no, e.times) for e in rehandles.cases]) == (
        -6,
        [("N-1", 2)],
    )
    revisits = score_rule(REVISITED, [twice, never], NOVEMBER)
    assert (revisits.points, [(e.tracking_no, e.times) for e in revisits.cases]) == (
        1,
        [("N-1", 1)],
    )
    assert revisits.cases[0].fact.en == "revisited 3 times, first on 2026-11-05"


def test_the_period_is_days_in_china_whatever_the_utc_date() -> None:
    # 17:00 UTC on 31 October is 01:00 on 1 November in China, and the reverse at the end.
    first_hour = case("N-1", resolved_at=at(10, 31, 17), deadline=date(2026, 11, 5))
    after_it = case("N-2", resolved_at=at(11, 30, 17), deadline=date(2026, 12, 5))
    looked_at = score_rule(ON_TIME, [first_hour, after_it], NOVEMBER)
    assert [e.tracking_no for e in looked_at.cases] == ["N-1"]


def test_a_department_is_scored_by_the_default_rules_as_worked_out_by_hand() -> None:
    rules = configured_rules({})
    cases = [
        # On time, satisfied, revisited.
        resolved(
            "N-1",
            4,
            10,
            dispatched_at=at(11, 2),
            rating="satisfied",
            satisfied=True,
            rated_at=at(11, 5),
            revisits=1,
            revisited_at=at(11, 5),
        ),
        # Returned once by edu on its way, late by 4 days, dissatisfied, re-handled once.
        resolved(
            "N-2",
            18,
            14,
            dispatched_at=at(11, 3),
            returned_by=(EDU,),
            rating="dissatisfied",
            satisfied=False,
            rated_at=at(11, 19),
            rehandles=1,
        ),
    ]
    found = score("department", "trans", rules, cases, NOVEMBER)
    assert found is not None
    points = {r.rule.id: r.points for r in found.rules}
    # on-time 30 × 1/2, late -2, satisfaction 40 × 1/2, one re-handle -3, one revisit +1; the
    # return is edu's, not trans's.
    assert points == {
        "on-time": 15,
        "late": -2,
        "satisfaction": 20,
        "returns": 0,
        "rehandles": -3,
        "revisits": 1,
    }
    assert found.total == 31
    assert (found.name, found.key) == ("交通运输局", "trans")
    links = {r.rule.id: [e.tracking_no for e in r.cases if e.points] for r in found.rules}
    assert links == {
        "on-time": ["N-1"],
        "late": ["N-2"],
        "satisfaction": ["N-1"],
        "returns": [],
        "rehandles": ["N-2"],
        "revisits": ["N-1"],
    }
    edu = score("department", "edu", rules, cases, NOVEMBER)
    assert edu is not None
    assert {r.rule.id: r.points for r in edu.rules} == {
        "on-time": 0,
        "late": 0,
        "satisfaction": 0,
        "returns": -1,
        "rehandles": 0,
        "revisits": 0,
    }


def test_officials_are_scored_on_the_cases_they_took_and_only_by_rules_for_officials() -> None:
    only_departments = Rule(
        "late-dept",
        "超期",
        "Late",
        "resolved-with-deadline",
        "late",
        points=-5,
        applies_to=("department",),
    )
    cases = [
        resolved("N-1", 16, 10, first_contact_id="gb-01", first_contact_name="张伟"),
        resolved("N-2", 16, 10, department_code="water"),
    ]
    (official,) = assess("official", [LATE, only_departments], cases, NOVEMBER)
    assert (official.score.key, official.score.name, official.score.total) == ("gb-01", "张伟", -2)
    assert [r.rule.id for r in official.score.rules] == ["late"]
    departments = assess("department", [LATE, only_departments], cases, NOVEMBER)
    assert [(r.score.key, r.score.total) for r in departments] == [("trans", -7), ("water", -7)]


def test_the_ranking_puts_the_best_first_and_equal_totals_share_a_rank() -> None:
    cases = [
        resolved("N-1", 4, 10, department_code="edu"),
        resolved("N-2", 16, 10, department_code="trans"),
        resolved("N-3", 4, 10, department_code="water"),
        resolved("N-4", 16, 10, department_code="land"),
        resolved("N-5", 4, 10, department_code="health"),
        resolved("N-6", 16, 10, department_code="health"),
    ]
    ranking = assess("department", [ON_TIME], cases, NOVEMBER)
    assert [(r.rank, r.score.key, r.score.total) for r in ranking] == [
        (1, "edu", 30),
        (1, "water", 30),
        (3, "health", 15),
        (4, "land", 0),
        (4, "trans", 0),
    ]


def test_nobody_without_a_case_in_the_period_is_ranked() -> None:
    october = case(
        "N-1", resolved_at=at(10, 20), deadline=date(2026, 10, 30), resolved_on_time=True
    )
    assert assess("department", [ON_TIME], [october], NOVEMBER) == []
    assert score("department", "trans", [ON_TIME], [october], NOVEMBER) is None


def test_a_return_counts_against_the_department_that_made_it_not_the_one_holding_the_case() -> None:
    # edu returned it, water took it and returned it too, trans holds it now.
    passed_on = case("N-1", dispatched_at=at(11, 3), returned_by=(EDU, WATER))
    ranking = assess("department", [RETURNS], [passed_on], NOVEMBER)
    assert [(r.rank, r.score.key, r.score.name, r.score.total) for r in ranking] == [
        (1, "trans", "交通运输局", 0),
        (2, "edu", "edu", -1),
        (2, "water", "水务局", -1),
    ]
    water = ranking[2].score.rules[0]
    assert [(e.tracking_no, e.points, e.fact.en, e.fact.zh) for e in water.cases] == [
        ("N-1", -1, "returned once by 水务局", "被 水务局 退单 1 次")
    ]
    assert water.cases[0].fact.details == {"returns": 1, "returned_by": "water"}


def test_a_co_handling_departments_return_counts_against_it_and_the_official_every_return() -> None:
    # trans leads; water, asked to help, returns its co-handling order.
    helped = case(
        "N-1",
        dispatched_at=at(11, 3),
        returned_by=(WATER,),
        first_contact_id="gb-01",
        first_contact_name="张伟",
    )
    departments = assess("department", [RETURNS], [helped], NOVEMBER)
    assert [(r.score.key, r.score.total) for r in departments] == [("trans", 0), ("water", -1)]
    (official,) = assess("official", [RETURNS], [helped], NOVEMBER)
    assert (official.score.key, official.score.total) == ("gb-01", -1)
    assert official.score.rules[0].cases[0].fact.en == "returned once by 水务局"


def test_a_returned_case_not_held_counts_for_the_returner_in_no_rule_but_on_returns() -> None:
    # Resolved late, rated dissatisfied, never revisited: all of it the holder's doing.
    resolved_by_trans = resolved(
        "N-1",
        18,
        14,
        submitted_at=at(11, 2),
        dispatched_at=at(11, 3),
        returned_by=(EDU,),
        rating="dissatisfied",
        satisfied=False,
        rated_at=at(11, 19),
        rehandles=2,
    )
    not_revisited = Rule(
        "not-revisited", "未回访", "Not revisited", "submitted", "not-revisited", points=-1
    )
    rules = [ON_TIME, LATE, REHANDLES, not_revisited, RETURNS]
    edu = score("department", "edu", rules, [resolved_by_trans], NOVEMBER)
    assert edu is not None
    assert [(r.rule.id, r.looked_at, r.points) for r in edu.rules] == [
        ("on-time", 0, 0.0),
        ("late", 0, 0.0),
        ("rehandles", 0, 0.0),
        ("not-revisited", 0, 0.0),
        ("returns", 1, -1.0),
    ]
    # With no rule on returns, edu has nothing in the period and is not ranked.
    assert score("department", "edu", rules[:-1], [resolved_by_trans], NOVEMBER) is None
    assert [
        r.score.key for r in assess("department", rules[:-1], [resolved_by_trans], NOVEMBER)
    ] == ["trans"]


def test_a_department_that_returned_a_case_and_holds_it_again_is_charged_once_per_return() -> None:
    back_again = case(
        "N-1",
        department_code="edu",
        department_name="教育局",
        dispatched_at=at(11, 3),
        returned_by=(Return("edu", "教育局"), WATER, Return("edu", "教育局")),
    )
    ranking = assess("department", [RETURNS], [back_again], NOVEMBER)
    assert [(r.score.key, r.score.total) for r in ranking] == [("water", -1), ("edu", -2)]
    edu = ranking[1].score.rules[0].cases
    assert [(e.times, e.fact.en, e.fact.zh) for e in edu] == [
        (2, "returned 2 times by 教育局", "被 教育局 退单 2 次")
    ]


def test_an_official_sees_every_department_that_returned_the_case_in_the_fact() -> None:
    passed_on = case(
        "N-1",
        dispatched_at=at(11, 3),
        first_contact_id="gb-01",
        returned_by=(EDU, WATER, Return(None), EDU),
    )
    (earned,) = score_rule(RETURNS, [passed_on], NOVEMBER).cases
    assert (earned.times, earned.points) == (4, -4)
    assert earned.fact.en == "returned 4 times by edu, 水务局 and an unknown department"
    assert earned.fact.zh == "被 edu、水务局、未知部门 退单 4 次"
    assert earned.fact.details == {"returns": 4, "returned_by": "edu, water, -"}
    # A return with no department recorded counts against no department.
    departments = assess("department", [RETURNS], [passed_on], NOVEMBER)
    assert [(r.score.key, r.score.total) for r in departments] == [
        ("trans", 0),
        ("water", -1),
        ("edu", -2),
    ]
