"""The bulletin's content and text: the month in `tests.reporting_history` gives the breakdowns
and the sentences worked out by hand, in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.reporting.bulletin.content import Bulletin, DepartmentShare, Share, top_shares
from services.reporting.bulletin.gather import case_rows, gather
from services.reporting.bulletin.periods import due, last_month, last_week
from services.reporting.bulletin.text import bulletin_text, percent, period_en, period_zh
from services.reporting.kpis import Figures, Filters, Period, figures
from services.reporting.models import Base
from tests.reporting_history import EXPECTED, NOVEMBER, history
from tests.unit.test_reporting_projections import project

# Received A B C D E G I: A by hotline, E by email, the rest on the web; C is "water", the rest
# "roads". Of those, A, B and C are resolved by the end of November. Dispatched in November:
# A, B, E to trans (B's latest department), C to water; resolved in November: A, B and F
# (1 November in China) at trans, C at water.
NOVEMBER_BULLETIN = Bulletin(
    first=date(2026, 11, 1),
    last=date(2026, 11, 30),
    figures=EXPECTED,
    received_resolved=3,
    by_channel=[
        Share(key="hotline", count=1),
        Share(key="email", count=1),
        Share(key="web", count=5),
    ],
    top_categories=[Share(key="roads", count=6), Share(key="water", count=1)],
    top_departments=[
        DepartmentShare(code="trans", name="trans", dispatched=3, resolved=3),
        DepartmentShare(code="water", name="water", dispatched=1, resolved=1),
    ],
)

NOVEMBER_ZH = """民情 12345 诉求办理通报（2026年11月1日至30日）

本期共受理群众诉求7件，其中热线电话1件、电子邮件1件、网上诉求5件。
当场解答1件，交办部门4件，部门签收3件，退单1件。
本期受理的7件诉求中已办结3件；本期共办结4件，按期办结率75%，平均办理时长206.4小时。
超期1件，催办1件，督办1件。
响应率75%，办结率75%，满意率66.7%。
群众反映较多的问题：roads（6件）、water（1件）。
交办较多的部门：trans（交办3件，办结3件）、water（交办1件，办结1件）。"""

NOVEMBER_EN = "\n".join(
    [
        "Minqing 12345 bulletin, 1–30 November 2026",
        "",
        "7 requests received: 1 hotline call, 1 email, 5 web requests.",
        "1 answered on the spot, 4 dispatched to departments, 3 signed for, 1 returned.",
        "Of the 7 requests received, 3 resolved; 4 resolved in the period, 75% on time, "
        "in 206.4 hours on average.",
        "1 overdue, 1 urged, 1 supervised.",
        "Response rate 75%, resolution rate 75%, satisfaction rate 66.7%.",
        "Most raised: roads (6), water (1).",
        "Departments dispatched to most: trans (3 dispatched, 3 resolved), "
        "water (1 dispatched, 1 resolved).",
    ]
)


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(project(history()).values())
        session.commit()
        yield session
    engine.dispose()


def test_the_month_gives_the_breakdowns_worked_out_by_hand(session: Session) -> None:
    found = gather(session, NOVEMBER)
    assert found.model_dump(exclude={"figures"}) == NOVEMBER_BULLETIN.model_dump(
        exclude={"figures"}
    )
    # Every KPI there is, as `kpis` gives it (whose own tests check it against the history).
    assert found.figures == figures(session, NOVEMBER, Filters()).model_dump()
    assert list(found.figures) == list(Figures.model_fields)


def test_the_month_s_case_list_holds_the_cases_received_in_it_and_nothing_personal(
    session: Session,
) -> None:
    rows = list(case_rows(session, NOVEMBER))
    assert [row[0] for row in rows] == [f"202611-{c}" for c in "ABCDIEG"]
    # The history's citizens all gave the phone 13700000000.
    assert "13700000000" not in repr(rows)


def test_the_month_reads_as_the_county_s_bulletin_in_chinese() -> None:
    assert bulletin_text(NOVEMBER_BULLETIN) == NOVEMBER_ZH


def test_the_month_reads_as_the_county_s_bulletin_in_english() -> None:
    assert bulletin_text(NOVEMBER_BULLETIN, "en") == NOVEMBER_EN


def test_every_case_on_time_is_said_so_and_big_counts_are_grouped_by_thousands() -> None:
    figures = {**EXPECTED, "received": 12500, "resolved": 12500, "on_time_rate": 1.0}
    bulletin = NOVEMBER_BULLETIN.model_copy(
        update={"figures": figures, "by_channel": [Share(key="hotline", count=12500)]}
    )
    zh, en = bulletin_text(bulletin), bulletin_text(bulletin, "en")
    assert "本期共受理群众诉求12,500件，其中热线电话12,500件。" in zh
    assert "本期共办结12,500件，全部按期办结，" in zh
    assert "12,500 requests received: 12,500 hotline calls." in en
    assert "12,500 resolved in the period, every one on time," in en


def test_a_period_with_nothing_in_it_says_so_and_prints_no_unknown_rates() -> None:
    empty = Bulletin(
        first=date(2026, 1, 1),
        last=date(2026, 1, 7),
        figures={name: (None if name.endswith(("rate", "hours")) else 0) for name in EXPECTED},
        received_resolved=0,
        by_channel=[],
        top_categories=[],
        top_departments=[],
    )
    assert bulletin_text(empty) == (
        "民情 12345 诉求办理通报（2026年1月1日至7日）\n\n"
        "本期未受理群众诉求。\n"
        "当场解答0件，交办部门0件，部门签收0件，退单0件。\n"
        "本期共办结0件。\n"
        "本期无超期、催办、督办诉求。"
    )
    assert bulletin_text(empty, "en") == (
        "Minqing 12345 bulletin, 1–7 January 2026\n\n"
        "No requests were received.\n"
        "0 answered on the spot, 0 dispatched to departments, 0 signed for, 0 returned.\n"
        "0 resolved in the period.\n"
        "None overdue, urged or supervised."
    )


def test_a_stored_bulletin_reads_back_though_a_kpi_was_added_since() -> None:
    stored = NOVEMBER_BULLETIN.model_dump(mode="json")
    stored["figures"] = {k: v for k, v in stored["figures"].items() if k != "p90_handling_hours"}
    assert bulletin_text(Bulletin.model_validate(stored)) == NOVEMBER_ZH


@pytest.mark.parametrize(
    ("first", "last", "zh", "en"),
    [
        (date(2026, 11, 2), date(2026, 11, 2), "2026年11月2日", "2 November 2026"),
        (
            date(2026, 11, 23),
            date(2026, 12, 6),
            "2026年11月23日至12月6日",
            "23 November – 6 December 2026",
        ),
        (
            date(2026, 12, 28),
            date(2027, 1, 3),
            "2026年12月28日至2027年1月3日",
            "28 December 2026 – 3 January 2027",
        ),
    ],
)
def test_periods_are_named_as_people_write_them(first: date, last: date, zh: str, en: str) -> None:
    assert (period_zh(first, last), period_en(first, last)) == (zh, en)


def test_rates_show_one_decimal_without_a_trailing_zero() -> None:
    assert [percent(r) for r in (0.75, 2 / 3, 1.0, 0.0, 0.9996)] == [
        "75%",
        "66.7%",
        "100%",
        "0%",
        "100%",
    ]


def test_top_categories_are_the_most_frequent_named_ones_ties_by_name() -> None:
    shares = [Share(key=k, count=c) for k, c in [("b", 2), (None, 9), ("a", 2), ("c", 3), ("d", 0)]]
    assert [s.key for s in top_shares(shares, top=2)] == ["c", "a"]


def test_last_week_runs_monday_to_sunday_and_last_month_is_the_calendar_month() -> None:
    assert last_week(date(2026, 12, 7)) == Period(date(2026, 11, 30), date(2026, 12, 6))
    assert last_week(date(2026, 12, 13)) == Period(date(2026, 11, 30), date(2026, 12, 6))
    assert last_month(date(2026, 12, 1)) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert last_month(date(2027, 1, 31)) == Period(date(2026, 12, 1), date(2026, 12, 31))


def test_a_bulletin_is_due_an_hour_after_its_period_ends_in_china() -> None:
    # 00:30 on Tuesday 1 December in China: November has not settled yet.
    early = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert due(early) == [
        ("weekly:2026-11-23", Period(date(2026, 11, 23), date(2026, 11, 29))),
        ("monthly:2026-10-01", Period(date(2026, 10, 1), date(2026, 10, 31))),
    ]
    # 01:00 in China, though still 30 November in UTC.
    settled = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert [key for key, _ in due(settled)] == ["weekly:2026-11-23", "monthly:2026-11-01"]
    # Monday 7 December in China: the week of 30 November is due from 01:00, not before.
    before = datetime(2026, 12, 6, 16, 59, tzinfo=UTC)
    assert due(before, ("weekly",))[0][0] == "weekly:2026-11-23"
    monday = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    assert due(monday, ("weekly",)) == [
        ("weekly:2026-11-30", Period(date(2026, 11, 30), date(2026, 12, 6)))
    ]
