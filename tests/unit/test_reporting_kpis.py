"""The KPIs of the month in `tests.reporting_history`, cases and messages, on SQLite: every
filter gives the figures worked out there by hand, and reading only the cases that may count
in a period changes no figure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import decode
from services.reporting.kpis import (
    COUNTS,
    KPIS,
    MEASURES,
    Figures,
    Filters,
    Period,
    definition,
    figures,
    summary,
)
from services.reporting.models import Base, CaseFact, MessageFact
from services.reporting.projections import (
    CaseEvent,
    MessageEvent,
    apply,
    apply_message,
    blank,
)
from tests.reporting_history import (
    CHENGGUAN,
    EMAILED_COMPLAINTS,
    EXPECTED,
    EXPECTED_CHENGGUAN,
    EXPECTED_EMAILED_COMPLAINTS,
    EXPECTED_LIJIA_VILLAGE_WIDE,
    EXPECTED_TRANS,
    LIJIA_VILLAGE_WIDE,
    NOVEMBER,
    TRANS,
    approx,
    history,
    messages,
)


def case_rows(envelopes: Sequence[Envelope]) -> list[CaseFact]:
    facts: dict[uuid.UUID, CaseFact] = {}
    for envelope in envelopes:
        event = cast(CaseEvent, decode(envelope))
        apply(facts.setdefault(event.case_id, blank(event.case_id)), event, envelope.occurred_at)
    return list(facts.values())


def message_rows(envelopes: Sequence[Envelope]) -> list[MessageFact]:
    facts: dict[uuid.UUID, MessageFact] = {}
    for envelope in envelopes:
        event = cast(MessageEvent, decode(envelope))
        fact = facts.setdefault(
            event.message_id, MessageFact(message_id=event.message_id, template=event.template)
        )
        apply_message(fact, event, envelope.occurred_at)
    return list(facts.values())


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'reporting.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        # Backwards: every step before its case's submission, every receipt before its send.
        session.add_all(case_rows(list(reversed(history()))))
        session.add_all(message_rows(list(reversed(messages()))))
        session.commit()
        yield session
    engine.dispose()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), EXPECTED),
        (TRANS, EXPECTED_TRANS),
        (EMAILED_COMPLAINTS, EXPECTED_EMAILED_COMPLAINTS),
        (CHENGGUAN, EXPECTED_CHENGGUAN),
        (LIJIA_VILLAGE_WIDE, EXPECTED_LIJIA_VILLAGE_WIDE),
    ],
    ids=["all", "trans", "emailed-complaints", "township", "village-and-scope"],
)
def test_the_month_gives_the_kpis_worked_out_by_hand(
    session: Session, filters: Filters, expected: dict[str, Any]
) -> None:
    assert figures(session, NOVEMBER, filters).model_dump() == approx(expected)


def test_village_and_scope_level_each_select_on_their_own(session: Session) -> None:
    # 李家村 holds C, E and I; the village-wide matters are C and I, wherever they are.
    village = figures(session, NOVEMBER, Filters(village="李家村"))
    assert (village.received, village.dispatched, village.backlog) == (3, 2, 1)
    assert (village.messages_sent, village.messages_delivered) == (2, 1)
    scope = figures(session, NOVEMBER, Filters(scope_level="village"))
    assert scope.model_dump() == approx(EXPECTED_LIJIA_VILLAGE_WIDE)
    nowhere = figures(session, NOVEMBER, Filters(township="马庄乡", village="东街村"))
    assert (nowhere.received, nowhere.messages_sent, nowhere.delivery_rate) == (0, 0, None)


def test_a_message_counts_by_its_own_moments_not_its_case_s(session: Session) -> None:
    # M6, F's reply, went out on 31 October in China and arrived on 1 November.
    october = figures(session, Period(date(2026, 10, 31), date(2026, 10, 31)), TRANS)
    first = figures(session, Period(date(2026, 11, 1), date(2026, 11, 1)), TRANS)
    assert (october.messages_sent, october.messages_delivered, october.delivery_rate) == (
        1,
        0,
        0.0,
    )
    assert (first.messages_sent, first.messages_delivered) == (0, 1)


def test_the_backlog_ages_as_the_period_ends_later(session: Session) -> None:
    # On 25 November E alone is open, submitted at 08:00 on the 20th in China.
    earlier = figures(session, Period(date(2026, 11, 25), date(2026, 11, 25)), Filters())
    assert earlier.backlog == 1
    assert earlier.backlog_average_age_days == pytest.approx(5 + 16 / 24)
    assert earlier.backlog_oldest_age_days == pytest.approx(5 + 16 / 24)


def test_a_month_with_nothing_in_it_counts_nothing(session: Session) -> None:
    empty = figures(session, Period(date(2026, 1, 1), date(2026, 1, 31)), Filters())
    unknown = ("rate", "hours", "days")
    assert empty == Figures(
        **{name: (None if name.endswith(unknown) else 0) for name in Figures.model_fields}
    )


def every_case_submitted_before_the_end(
    session: Session, period: Period, filters: Filters
) -> dict[str, Any]:
    """The case figures read the plain way, every case submitted before the period ends."""
    kpis = (*COUNTS, *MEASURES)
    row = session.execute(
        select(*(kpi(period).label(kpi.__name__) for kpi in kpis)).where(
            *filters.conditions(), period.before_end(CaseFact.submitted_at)
        )
    ).one()
    return dict(zip((kpi.__name__ for kpi in kpis), row, strict=True))


def test_leaving_out_the_cases_that_cannot_count_changes_no_figure(session: Session) -> None:
    # Each day of the month, the month and its neighbours: A, for one, finished on the 4th but
    # was rated on the 5th and closed on the 6th, so those days must still read its row.
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    periods = [
        *(Period(day, day) for day in days),
        NOVEMBER,
        Period(date(2026, 10, 1), date(2026, 10, 31)),
        Period(date(2026, 12, 1), date(2026, 12, 31)),
        Period(date(2026, 11, 6), date(2026, 11, 19)),
    ]
    for period in periods:
        for filters in (Filters(), TRANS, CHENGGUAN):
            fast = figures(session, period, filters).model_dump()
            plain = every_case_submitted_before_the_end(session, period, filters)
            assert {name: fast[name] for name in plain} == approx(plain), (period, filters)


def test_the_summary_counts_a_period_s_submissions_or_all_of_them(session: Session) -> None:
    everything = summary(session)
    assert everything.total == 9
    assert everything.by_channel == {"web": 7, "hotline": 1, "email": 1}
    assert everything.by_department == {"trans": 4, "water": 1}
    month = summary(session, NOVEMBER)
    assert month.total == 7
    assert month.by_channel == {"web": 5, "hotline": 1, "email": 1}
    assert month.by_status["merged"] == 1
    assert month.by_department == {"trans": 3, "water": 1}


def test_the_readme_defines_every_kpi_in_the_code_s_words() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for kpi in KPIS:
        assert f"| `{kpi.__name__}` | {definition(kpi)} |" in readme
    assert [kpi.__name__ for kpi in KPIS] == list(Figures.model_fields)
