"""A month of case events with the KPIs it must give, worked out by hand below.

The period is November 2026 in China Standard Time: 2026-10-31T16:00Z to 2026-11-30T16:00Z.
Moments are written in UTC; the comments say where the day in China matters.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseExtensionDecided,
    CaseMerged,
    CaseOverdue,
    CasePendingDispatch,
    CaseRated,
    CaseRehandled,
    CaseResolved,
    CaseReturned,
    CaseSubmitted,
    CaseSupervised,
    CaseUrged,
    Contact,
    FirstContact,
    Location,
    WorkOrderMoved,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event
from services.reporting.kpis import Filters, Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
# Z never appears in the month: a test sends it last to know the rest has been handled.
CASES = {letter: uuid.uuid4() for letter in "ABCDEFGHIZ"}
ORDERS = {letter: uuid.uuid4() for letter in CASES}


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _on(event: Event, moment: datetime, producer: str) -> Envelope:
    case_id = getattr(event, "case_id", None)
    envelope = event.envelope(producer=producer, case_id=case_id)
    return envelope.model_copy(update={"occurred_at": moment})


def submitted(
    case: str,
    moment: datetime,
    channel: Any = "web",
    kind: Any = "complaint",
    category: str | None = "roads",
    answered: bool = False,
    address: str | None = None,
    first_contact: FirstContact | None = None,
    scope_level: Any = None,
) -> Envelope:
    event = CaseSubmitted(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        access_code="ABC234",
        channel=channel,
        kind=kind,
        category=category,
        description="x",
        location=Location(address=address) if address else None,
        contact=Contact(phone="13700000000"),
        first_contact=first_contact,
        scope_level=scope_level,
        answered_directly=answered,
        submitted_at=moment,
        promised_date=date(2026, 12, 16),
    )
    return _on(event, moment, "intake")


def assigned(case: str, moment: datetime, department: str, deadline: date) -> Envelope:
    event = CaseAssigned(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        work_order_id=ORDERS[case],
        department_code=department,
        department_name=department,
        deadline=deadline,
        matched_by="test",
        kind="complaint",
        category=None,
        description="x",
        address=None,
    )
    return _on(event, moment, "routing")


def moved(
    kind: type[WorkOrderMoved], case: str, moment: datetime, role: str = "lead", **extra: Any
) -> Envelope:
    event = kind(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        work_order_id=ORDERS[case],
        department_code="trans",
        order_role=role,
        action="test",
        from_status="a",
        to_status="b",
        actor_role="handler",
        reason=None,
        occurred_at=moment,
        **extra,
    )
    return _on(event, moment, "routing")


def resolved(case: str, moment: datetime) -> Envelope:
    event = CaseResolved(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        work_order_id=ORDERS[case],
        department_code="trans",
        department_name="trans",
        reply="done",
        resolved_at=moment,
    )
    return _on(event, moment, "routing")


def rated(case: str, moment: datetime, rating: Any) -> Envelope:
    event = CaseRated(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        channel="sms",
        rating=rating,
        comment=None,
        department_code=None,
        rated_at=moment,
    )
    return _on(event, moment, "intake")


def clock(kind: type[Event], case: str, moment: datetime, **extra: Any) -> Envelope:
    event = kind(
        case_id=CASES[case],
        tracking_no=f"202611-{case}",
        work_order_id=ORDERS[case],
        department_code="water",
        deadline=date(2026, 11, 10),
        due_at=at(11, 10, 16),
        **extra,
    )
    return _on(event, moment, "routing")


def escalated(kind: type[Event], case: str, moment: datetime) -> Envelope:
    facts = {"automatic": True, "staff_id": None, "staff_name": None, "note": None}
    return clock(kind, case, moment, occurred_at=moment, **facts)


def history() -> list[Envelope]:
    """Every event of the month, in the order they happened."""
    return [
        # F: submitted and dispatched in October, resolved at 01:00 on 1 November in China.
        submitted("F", at(10, 25)),
        assigned("F", at(10, 25, 1), "trans", date(2026, 11, 5)),
        moved(CaseAccepted, "F", at(10, 26)),
        resolved("F", at(10, 31, 17)),
        # A: the hotline; on time, satisfied, closed.
        submitted("A", at(11, 2, 2), channel="hotline"),
        assigned("A", at(11, 2, 3), "trans", date(2026, 11, 10)),
        moved(CaseAccepted, "A", at(11, 2, 5)),
        resolved("A", at(11, 4, 2)),
        rated("A", at(11, 5), "satisfied"),
        moved(CaseClosed, "A", at(11, 6)),
        # B: returned by edu, given to trans, extended to the 20th, re-handled after resolution.
        submitted("B", at(11, 3)),
        assigned("B", at(11, 3, 1), "edu", date(2026, 11, 12)),
        moved(CaseReturned, "B", at(11, 3, 6), reason_code="wrong-function"),
        assigned("B", at(11, 4), "trans", date(2026, 11, 14)),
        moved(CaseAccepted, "B", at(11, 4, 2)),
        moved(
            CaseExtensionDecided,
            "B",
            at(11, 10),
            approved=True,
            requested_due=date(2026, 11, 20),
            deadline=date(2026, 11, 20),
        ),
        resolved("B", at(11, 18)),
        rated("B", at(11, 19), "dissatisfied"),
        moved(CaseRehandled, "B", at(11, 19, 1), rehandles=1, supervision=False),
        resolved("B", at(11, 22)),
        # C: water; overdue, urged twice, supervised, resolved at 00:30 on the 16th in China.
        submitted("C", at(11, 5), kind="help", category="water"),
        assigned("C", at(11, 5, 1), "water", date(2026, 11, 10)),
        moved(CaseAccepted, "C", at(11, 6)),
        clock(CaseOverdue, "C", at(11, 10, 16, 1)),
        escalated(CaseUrged, "C", at(11, 11, 2)),
        escalated(CaseUrged, "C", at(11, 12, 2)),
        escalated(CaseSupervised, "C", at(11, 14)),
        resolved("C", at(11, 15, 16, 30)),
        rated("C", at(11, 16), "basically-satisfied"),
        # D: a consultation answered on the call.
        submitted("D", at(11, 7), kind="consultation", answered=True),
        # I: merged into another case the day it came.
        submitted("I", at(11, 8)),
        _on(
            CaseMerged(
                case_id=CASES["I"],
                tracking_no="202611-I",
                into_case_id=CASES["A"],
                into_tracking_no="202611-A",
                merged_by="d-01",
            ),
            at(11, 8, 1),
            "intake",
        ),
        # E: by email, waited for a dispatcher, never signed for by its lead department; a
        # co-handling department signed for and returned its own order, which the case's
        # figures must ignore.
        submitted("E", at(11, 20), channel="email"),
        _on(
            CasePendingDispatch(
                case_id=CASES["E"], tracking_no="202611-E", work_order_id=ORDERS["E"], reason="?"
            ),
            at(11, 20, 1),
            "routing",
        ),
        assigned("E", at(11, 21), "trans", date(2026, 12, 5)),
        moved(CaseAccepted, "E", at(11, 22), role="co"),
        moved(CaseReturned, "E", at(11, 23), role="co", reason_code="wrong-territory"),
        # G: 23:00 on the 29th in China, nothing since.
        submitted("G", at(11, 29, 15)),
        # H: 01:00 on 1 December in China, though still 30 November in UTC.
        submitted("H", at(11, 30, 17)),
    ]


# Received A B C D E G I; dispatched in November A B C E; resolved in November A B C F, taking
# 48 h, 360 h (to B's first resolution), 256.5 h and 161 h; on time all but C (the 16th in
# China, deadline the 10th; B's deadline is the extension's 20th, not the 12th or 14th).
EXPECTED: dict[str, Any] = {
    "received": 7,
    "accepted": 3,
    "answered_directly": 1,
    "dispatched": 4,
    "returned": 1,
    "resolved": 4,
    "closed": 1,
    "backlog": 2,
    "overdue": 1,
    "urged": 1,
    "supervised": 1,
    "on_time_rate": 0.75,
    "average_handling_hours": (48 + 360 + 256.5 + 161) / 4,
    "p90_handling_hours": 360.0,
    "return_rate": 0.25,
    "rehandle_rate": 0.25,
    "satisfaction_rate": 2 / 3,
    "response_rate": 0.75,
    "resolution_rate": 0.75,
}

# trans's cases are A, B, E and F (B's latest assignment); F was received in October.
TRANS = Filters(department="trans")
EXPECTED_TRANS: dict[str, Any] = {
    "received": 3,
    "accepted": 2,
    "answered_directly": 0,
    "dispatched": 3,
    "returned": 1,
    "resolved": 3,
    "closed": 1,
    "backlog": 1,
    "overdue": 0,
    "urged": 0,
    "supervised": 0,
    "on_time_rate": 1.0,
    "average_handling_hours": (48 + 360 + 161) / 3,
    "p90_handling_hours": 360.0,
    "return_rate": 1 / 3,
    "rehandle_rate": 1 / 3,
    "satisfaction_rate": 0.5,
    "response_rate": 2 / 3,
    "resolution_rate": 2 / 3,
}

# Only E: dispatched, never signed for or resolved; rates over no cases are unknown.
EMAILED_COMPLAINTS = Filters(channel="email", kind="complaint")
EXPECTED_EMAILED_COMPLAINTS: dict[str, Any] = {
    "received": 1,
    "accepted": 0,
    "answered_directly": 0,
    "dispatched": 1,
    "returned": 0,
    "resolved": 0,
    "closed": 0,
    "backlog": 1,
    "overdue": 0,
    "urged": 0,
    "supervised": 0,
    "on_time_rate": None,
    "average_handling_hours": None,
    "p90_handling_hours": None,
    "return_rate": 0.0,
    "rehandle_rate": None,
    "satisfaction_rate": None,
    "response_rate": 0.0,
    "resolution_rate": 0.0,
}


def approx(expected: dict[str, Any]) -> dict[str, Any]:
    """The expected figures, compared as a float sum would come out of the database."""
    return {k: v if v is None else pytest.approx(v) for k, v in expected.items()}
