"""The hot spot rules over plain cases, each answer worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.reporting.hotspots import (
    Cluster,
    PlacedCase,
    Thresholds,
    counts,
    hot_spots,
    previous_period,
    ranked,
)
from services.reporting.kpis import Period

START = datetime(2026, 11, 2, tzinfo=UTC)
WATER_WANGJIA = Cluster("饮用水", "越溪乡", "王家村", "complaint")


def cases(
    count: int,
    category: str | None = "饮用水",
    township: str | None = "越溪乡",
    village: str | None = "王家村",
    kind: str | None = "complaint",
    prefix: str = "W",
) -> list[PlacedCase]:
    return [
        PlacedCase(f"{prefix}{n}", START + timedelta(hours=n), category, kind, township, village)
        for n in range(count)
    ]


def test_five_cases_of_one_matter_in_one_village_are_a_hot_spot_and_four_are_not() -> None:
    (spot,) = hot_spots(cases(5), {WATER_WANGJIA: 5}, Thresholds())
    assert spot.cluster == WATER_WANGJIA
    assert (spot.cases, spot.previous_cases, spot.reasons) == (5, 5, ("many",))
    assert hot_spots(cases(4), {WATER_WANGJIA: 4}, Thresholds()) == []


def test_a_group_at_least_twice_as_large_as_before_is_rising_from_three_cases_up() -> None:
    (spot,) = hot_spots(cases(4), {WATER_WANGJIA: 2}, Thresholds())
    assert spot.reasons == ("rising",)
    assert hot_spots(cases(4), {WATER_WANGJIA: 3}, Thresholds()) == []
    # One case becoming two is twice as many but no news.
    assert hot_spots(cases(2), {}, Thresholds()) == []
    (new,) = hot_spots(cases(3), {}, Thresholds())
    assert (new.previous_cases, new.reasons) == (0, ("rising",))


def test_a_large_group_that_doubled_is_both_many_and_rising() -> None:
    (spot,) = hot_spots(cases(6), {WATER_WANGJIA: 3}, Thresholds())
    assert spot.reasons == ("many", "rising")
    assert spot.rise == 3


def test_a_lower_min_cases_lowers_the_bar_for_a_rise_too() -> None:
    thresholds = Thresholds(min_cases=2)
    assert thresholds.fewest_rising == 2
    (spot,) = hot_spots(cases(2), {}, thresholds)
    assert spot.reasons == ("many", "rising")


def test_cases_group_by_category_village_and_kind_not_just_by_place() -> None:
    mixed = [
        *cases(3, prefix="A"),
        *cases(2, kind="help", prefix="B"),
        *cases(2, category="道路", prefix="C"),
        # Another township's 王家村 is another place.
        *cases(2, township="城关镇", prefix="D"),
    ]
    assert hot_spots(mixed, {}, Thresholds(min_cases=5, min_rising_cases=5)) == []
    assert counts(mixed) == {
        WATER_WANGJIA: 3,
        Cluster("饮用水", "越溪乡", "王家村", "help"): 2,
        Cluster("道路", "越溪乡", "王家村", "complaint"): 2,
        Cluster("饮用水", "城关镇", "王家村", "complaint"): 2,
    }


def test_cases_with_no_village_cluster_at_their_township() -> None:
    township_only = cases(5, village=None)
    (spot,) = hot_spots(township_only, {}, Thresholds())
    assert spot.cluster == Cluster("饮用水", "越溪乡", None, "complaint")


def test_a_hot_spot_lists_its_tracking_numbers_in_the_order_the_cases_came() -> None:
    shuffled = list(reversed(cases(5)))
    (spot,) = hot_spots(shuffled, {}, Thresholds())
    assert spot.tracking_numbers == ("W0", "W1", "W2", "W3", "W4")


def test_hot_spots_rank_by_size_then_by_rise_then_by_name() -> None:
    found = hot_spots(
        [
            *cases(5, category="道路", prefix="R"),
            *cases(7, prefix="W"),
            *cases(5, category="噪声", prefix="N"),
            *cases(5, category="供电", prefix="E"),
        ],
        {
            Cluster("道路", "越溪乡", "王家村", "complaint"): 4,
            Cluster("噪声", "越溪乡", "王家村", "complaint"): 1,
            Cluster("供电", "越溪乡", "王家村", "complaint"): 1,
        },
        Thresholds(),
    )
    # 7 first; of the fives, 噪声 and 供电 rose by 4, 道路 by 1; 供电 sorts before 噪声.
    assert [spot.cluster.category for spot in found] == ["饮用水", "供电", "噪声", "道路"]
    assert ranked(list(reversed(found))) == found


def test_unknown_category_and_place_are_groups_of_their_own_ranked_after_named_ones() -> None:
    found = hot_spots(
        [*cases(5, category=None, prefix="U"), *cases(5, prefix="W")], {}, Thresholds()
    )
    assert [spot.cluster.category for spot in found] == ["饮用水", None]


def test_the_previous_period_has_the_same_days_and_ends_the_day_before() -> None:
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert previous_period(november) == Period(date(2026, 10, 2), date(2026, 10, 31))
    one_day = Period(date(2026, 3, 1), date(2026, 3, 1))
    assert previous_period(one_day) == Period(date(2026, 2, 28), date(2026, 2, 28))
    week = Period(date(2026, 1, 1), date(2026, 1, 7))
    assert previous_period(week) == Period(date(2025, 12, 25), date(2025, 12, 31))
