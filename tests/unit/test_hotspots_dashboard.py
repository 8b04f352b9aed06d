"""The leaders' page's own rules: the default period, the tallies and the charts' geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.reporting.dashboard import (
    bar_chart,
    daily,
    line_chart,
    nice_ceiling,
    percent,
    tally,
    this_month,
)
from services.reporting.kpis import Period


def test_the_default_period_runs_from_the_first_of_the_month_to_today() -> None:
    assert this_month(date(2026, 11, 17)) == Period(date(2026, 11, 1), date(2026, 11, 17))
    assert this_month(date(2026, 12, 1)) == Period(date(2026, 12, 1), date(2026, 12, 1))


def test_a_tally_puts_the_largest_first_and_sums_the_smallest_beyond_the_last_bar() -> None:
    keys = ["web"] * 3 + ["hotline"] * 5 + ["email"] * 3 + [None]
    assert tally(keys) == [("hotline", 5), ("email", 3), ("web", 3), (None, 1)]
    assert tally(["a", "a", "b", "c", "d"], most=3) == [("a", 2), ("b", 1), (None, 2)]


def test_cases_are_counted_on_their_day_in_china_and_every_day_is_shown() -> None:
    moments = [
        datetime(2026, 10, 31, 16, 0, tzinfo=UTC),  # 1 November, 00:00 in China
        datetime(2026, 11, 1, 15, 59, tzinfo=UTC),  # 1 November, 23:59
        datetime(2026, 11, 2, 16, 0, tzinfo=UTC),  # 3 November
    ]
    period = Period(date(2026, 11, 1), date(2026, 11, 4))
    assert daily(moments, period) == [
        (date(2026, 11, 1), 2),
        (date(2026, 11, 2), 0),
        (date(2026, 11, 3), 1),
        (date(2026, 11, 4), 0),
    ]


def test_the_longest_bar_fills_the_plot_and_the_others_are_to_scale() -> None:
    chart = bar_chart([("hotline", 10), ("web", 5), ("email", 0)], width=400, label_width=100)
    plot = 400 - 100 - 48
    assert [bar.width for bar in chart.bars] == [plot, plot / 2, 0]
    assert [bar.y for bar in chart.bars] == [0, 30, 60]
    assert chart.height == 90
    assert bar_chart([]).bars == ()


def test_an_axis_tops_out_at_a_round_number() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 10, 11, 48, 51, 120)] == [
        1,
        1,
        2,
        5,
        10,
        10,
        20,
        50,
        100,
        200,
    ]


def test_the_daily_line_runs_left_to_right_from_the_baseline_up() -> None:
    days = [(date(2026, 11, day), count) for day, count in ((1, 0), (2, 5), (3, 10))]
    chart = line_chart(days, width=240, height=120, left=40, bottom=20, top_margin=0)
    assert [(dot.x, dot.y) for dot in chart.dots] == [(40, 100), (136, 50), (232, 0)]
    assert chart.points == "40.0,100.0 136.0,50.0 232.0,0.0"
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
    assert [tick.label for tick in chart.x_ticks] == ["11-01", "11-02", "11-03"]


def test_a_rate_over_no_cases_shows_as_a_dash() -> None:
    assert percent(None) == "—"
    assert percent(0.875) == "87.5%"
    assert percent(0.0) == "0.0%"
