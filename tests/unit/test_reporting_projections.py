"""Reporting's projection rules: a case's row is the same whatever order its events come in."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from services.kernel.events.contracts import (
    CaseAccepted,
    CaseRehandled,
    CaseRevisited,
    FirstContact,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import decode
from services.reporting.models import CaseFact
from services.reporting.projections import CaseEvent, apply, blank
from tests.reporting_history import (
    CASES,
    assigned,
    at,
    history,
    moved,
    rated,
    resolved,
    submitted,
)


def project(envelopes: Sequence[Envelope]) -> dict[uuid.UUID, CaseFact]:
    facts: dict[uuid.UUID, CaseFact] = {}
    for envelope in envelopes:
        event = cast(CaseEvent, decode(envelope))
        fact = facts.setdefault(event.case_id, blank(event.case_id))
        apply(fact, event, envelope.occurred_at)
    return facts


def row(fact: CaseFact) -> dict[str, Any]:
    return {column.key: getattr(fact, column.key) for column in CaseFact.__table__.columns}


def rows(envelopes: Sequence[Envelope]) -> dict[uuid.UUID, dict[str, Any]]:
    return {case_id: row(fact) for case_id, fact in project(envelopes).items()}


def test_every_order_of_the_events_gives_the_same_rows() -> None:
    events = history()
    in_order = rows(events)
    shuffler = random.Random(20261201)
    for _ in range(20):
        shuffled = list(events)
        shuffler.shuffle(shuffled)
        assert rows(shuffled) == in_order
    assert rows(list(reversed(events))) == in_order


def test_the_latest_assignment_and_extension_give_the_department_and_deadline() -> None:
    (fact,) = project([e for e in reversed(history()) if e.case_id == CASES["B"]]).values()
    assert (fact.department_code, fact.deadline) == ("trans", date(2026, 11, 20))
    assert fact.returns == 1
    assert fact.resolved_at == at(11, 18)
    assert fact.resolved_on_time is True
    assert fact.handling_seconds == 360 * 3600


def test_a_resolution_after_the_deadline_in_china_is_late() -> None:
    deadline = date(2026, 11, 10)
    # 23:30 on the 10th in China is on time; 00:30 on the 11th is not, though still the 10th UTC.
    for moment, on_time in ((at(11, 10, 15, 30), True), (at(11, 10, 16, 30), False)):
        (fact,) = project(
            [assigned("A", at(11, 2), "trans", deadline), resolved("A", moment)]
        ).values()
        assert fact.resolved_on_time is on_time


def test_a_co_handling_order_moves_neither_acceptance_nor_returns() -> None:
    (fact,) = project(
        [submitted("E", at(11, 1)), moved(CaseAccepted, "E", at(11, 2), role="co")]
    ).values()
    assert fact.accepted_at is None
    assert fact.status == "received"


def test_re_handles_keep_the_highest_total_and_too_many_mean_supervision() -> None:
    second = moved(CaseRehandled, "B", at(11, 20), rehandles=2, supervision=True)
    first = moved(CaseRehandled, "B", at(11, 19), rehandles=1, supervision=False)
    (fact,) = project([second, first, second]).values()
    assert fact.rehandles == 2
    assert fact.supervised_at == at(11, 20)


def test_basically_satisfied_counts_as_satisfied() -> None:
    for rating, satisfied in (
        ("satisfied", True),
        ("basically-satisfied", True),
        ("dissatisfied", False),
    ):
        (fact,) = project([rated("A", at(11, 5), rating)]).values()
        assert (fact.rating, fact.satisfied) == (rating, satisfied)


def test_a_later_stage_is_never_undone_by_an_earlier_event_arriving_late() -> None:
    (fact,) = project([resolved("A", at(11, 4)), submitted("A", at(11, 2))]).values()
    assert fact.status == "resolved"


def test_a_case_keeps_its_village_official_and_scope_but_never_the_house() -> None:
    official = FirstContact(staff_id="gb-007", name="王干部", unit="城关镇")
    event = submitted(
        "A",
        at(11, 1),
        address="清河县城关镇东街村3组12号",
        first_contact=official,
        scope_level="village",
    )
    (fact,) = project([event]).values()
    assert (fact.township, fact.village) == ("城关镇", "东街村")
    assert (fact.first_contact_id, fact.first_contact_name) == ("gb-007", "王干部")
    assert fact.scope_level == "village"
    assert "12号" not in str(row(fact))


def test_revisits_count_and_the_case_is_finished_at_its_first_end() -> None:
    revisit = moved(CaseRevisited, "A", at(11, 9), rating=None)
    (fact,) = project(
        [revisit, resolved("A", at(11, 6)), moved(CaseRevisited, "A", at(11, 8), rating=None)]
    ).values()
    assert (fact.revisits, fact.revisited_at) == (2, at(11, 8))
    assert fact.finished_at == at(11, 6)
