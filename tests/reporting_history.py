"""A month of case events with the KPIs it must give, worked out by hand below.

The period is November 2026 in China Standard Time: 2026-10-31T16:00Z to 2026-11-30T16:00Z.
Moments are written in UTC; the comments say where the day in China matters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
    MessageDelivered,
    MessageFailed,
    MessageSent,
    WorkOrderMoved,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event
from services.reporting.kpis import Filters, Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
# Z never appears in the month: a test sends it last to know the rest has been handled.
CASES = {letter: uuid.uuid4() for letter in "ABCDEFGHIZ"}
ORDERS = {letter: uuid.uuid4() for letter in CASES}
# Z's message, like Z, lies outside the month and is sent last.
MESSAGES = {number: uuid.uuid4() for number in range(1, 10)} | {0: uuid.uuid4()}


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


def clock(kind: Callable[..., Event], case: str, moment: datetime, **extra: Any) -> Envelope:
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


def escalated(kind: Callable[..., Event], case: str, moment: datetime) -> Envelope:
    facts = {"automatic": True, "staff_id": None, "staff_name": None, "note": None}
    return clock(kind, case, moment, occurred_at=moment, **facts)


def message(
    kind: type[MessageSent | MessageDelivered | MessageFailed],
    number: int,
    case: str | None,
    moment: datetime,
    channel: Any = "sms",
) -> Envelope:
    """One of message `number`'s events about `case` (None: about no case), at `moment`."""
    facts: dict[str, Any] = {
        "message_id": MESSAGES[number],
        "case_id": CASES[case] if case else None,
        "tracking_no": f"202611-{case}" if case else None,
        "template": "case_update",
        "channel": channel,
    }
    if kind is MessageSent:
        event: Event = MessageSent(**facts, segments=1)
    elif kind is MessageDelivered:
        event = MessageDelivered(**facts, delivered_at=moment)
    else:
        event = MessageFailed(**facts, status="failed", reason="UNDELIV err:001", failed_at=moment)
    return _on(event, moment, "notify")


def messages() -> list[Envelope]:
    """Every message event of the month, in the order they happened but for M2's."""
    return [
        # M6: F's reply, sent at 23:50 on 31 October in China, delivered at 00:10 on 1 November.
        message(MessageSent, 6, "F", at(10, 31, 15, 50)),
        message(MessageDelivered, 6, "F", at(10, 31, 16, 10)),
        # M1: A's receipt; the gateway sent a second receipt a day later, which changes nothing.
        message(MessageSent, 1, "A", at(11, 2, 2, 1)),
        message(MessageDelivered, 1, "A", at(11, 2, 2, 2)),
        message(MessageDelivered, 1, "A", at(11, 3, 2, 2)),
        # M2: A's dispatch notice; its receipt is published before the send.
        message(MessageDelivered, 2, "A", at(11, 2, 3, 2)),
        message(MessageSent, 2, "A", at(11, 2, 3, 1)),
        # M3: B's receipt never arrived.
        message(MessageSent, 3, "B", at(11, 3, 0, 1)),
        message(MessageFailed, 3, "B", at(11, 3, 0, 5)),
        # M8: about no case (a citizen's reply answered); counted only without filters.
        message(MessageSent, 8, None, at(11, 10, 2)),
        message(MessageDelivered, 8, None, at(11, 10, 2, 1)),
        # M9: C's reply never arrived.
        message(MessageSent, 9, "C", at(11, 15, 16, 31)),
        message(MessageFailed, 9, "C", at(11, 15, 17, 31)),
        # M4: E's receipt, by email.
        message(MessageSent, 4, "E", at(11, 20, 0, 1), channel="email"),
        message(MessageDelivered, 4, "E", at(11, 20, 0, 2), channel="email"),
        # M7: G's receipt, sent at 23:59 on 30 November in China, delivered on 1 December.
        message(MessageSent, 7, "G", at(11, 30, 15, 59)),
        message(MessageDelivered, 7, "G", at(11, 30, 16, 1)),
        # M5: H's receipt, all on 1 December in China.
        message(MessageSent, 5, "H", at(11, 30, 17, 1)),
        message(MessageDelivered, 5, "H", at(11, 30, 17, 2)),
    ]


def history() -> list[Envelope]:
    """Every event of the month, in the order they happened."""
    return [
        # F: submitted and dispatched in October, resolved at 01:00 on 1 November in China.
        submitted("F", at(10, 25), address="清河县城关镇东街村", scope_level="individual"),
        assigned("F", at(10, 25, 1), "trans", date(2026, 11, 5)),
        moved(CaseAccepted, "F", at(10, 26)),
        resolved("F", at(10, 31, 17)),
        # A: the hotline; on time, satisfied, closed.
        submitted(
            "A",
            at(11, 2, 2),
            channel="hotline",
            address="清河县城关镇东街村3组12号",
            scope_level="individual",
        ),
        assigned("A", at(11, 2, 3), "trans", date(2026, 11, 10)),
        moved(CaseAccepted, "A", at(11, 2, 5)),
        resolved("A", at(11, 4, 2)),
        rated("A", at(11, 5), "satisfied"),
        moved(CaseClosed, "A", at(11, 6)),
        # B: returned by edu, given to trans, extended to the 20th, re-handled after resolution.
        submitted("B", at(11, 3), address="城关镇西街村8号", scope_level="family"),
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
        submitted(
            "C",
            at(11, 5),
            kind="help",
            category="water",
            address="清河县马庄乡李家村",
            scope_level="village",
        ),
        assigned("C", at(11, 5, 1), "water", date(2026, 11, 10)),
        moved(CaseAccepted, "C", at(11, 6)),
        clock(CaseOverdue, "C", at(11, 10, 16, 1)),
        escalated(CaseUrged, "C", at(11, 11, 2)),
        escalated(CaseUrged, "C", at(11, 12, 2)),
        escalated(CaseSupervised, "C", at(11, 14)),
        resolved("C", at(11, 15, 16, 30)),
        rated("C", at(11, 16), "basically-satisfied"),
        # D: a consultation answered on the call.
        submitted("D", at(11, 7), kind="consultation", answered=True, address="城关镇南街社区"),
        # I: merged into another case the day it came.
        submitted("I", at(11, 8), address="马庄乡李家村", scope_level="village"),
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
        submitted(
            "E", at(11, 20), channel="email", address="马庄乡李家村5组", scope_level="individual"
        ),
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


# Backlog at the end (16:00 UTC on the 30th): E, submitted 10 days 16 hours before, and G,
# 25 hours before.
_BACKLOG_E_AND_G = {
    "backlog_average_age_days": (32 / 3 + 25 / 24) / 2,
    "backlog_oldest_age_days": 32 / 3,
}
_BACKLOG_E = {"backlog_average_age_days": 32 / 3, "backlog_oldest_age_days": 32 / 3}
_NO_BACKLOG = {"backlog_average_age_days": None, "backlog_oldest_age_days": None}

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
    **_BACKLOG_E_AND_G,
    "on_time_rate": 0.75,
    "average_handling_hours": (48 + 360 + 256.5 + 161) / 4,
    "p90_handling_hours": 360.0,
    "return_rate": 0.25,
    "rehandle_rate": 0.25,
    "satisfaction_rate": 2 / 3,
    "response_rate": 0.75,
    "resolution_rate": 0.75,
    # Sent in November M1 M2 M3 M4 M7 M8 M9; delivered in it M1 M2 M4 M6 M8 (M6 sent in
    # October, M7's receipt on 1 December); of the seven sent, four arrived by the end.
    "messages_sent": 7,
    "messages_delivered": 5,
    "delivery_rate": 4 / 7,
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
    **_BACKLOG_E,
    "on_time_rate": 1.0,
    "average_handling_hours": (48 + 360 + 161) / 3,
    "p90_handling_hours": 360.0,
    "return_rate": 1 / 3,
    "rehandle_rate": 1 / 3,
    "satisfaction_rate": 0.5,
    "response_rate": 2 / 3,
    "resolution_rate": 2 / 3,
    # M1 M2 M3 M4 sent; M1 M2 M4 M6 delivered; M3 failed.
    "messages_sent": 4,
    "messages_delivered": 4,
    "delivery_rate": 0.75,
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
    **_BACKLOG_E,
    "on_time_rate": None,
    "average_handling_hours": None,
    "p90_handling_hours": None,
    "return_rate": 0.0,
    "rehandle_rate": None,
    "satisfaction_rate": None,
    "response_rate": 0.0,
    "resolution_rate": 0.0,
    "messages_sent": 1,
    "messages_delivered": 1,
    "delivery_rate": 1.0,
}

# 城关镇's cases are A, B, D and F: on time all, B sent back once and re-handled, nothing open.
CHENGGUAN = Filters(township="城关镇")
EXPECTED_CHENGGUAN: dict[str, Any] = {
    "received": 3,
    "accepted": 2,
    "answered_directly": 1,
    "dispatched": 2,
    "returned": 1,
    "resolved": 3,
    "closed": 1,
    "backlog": 0,
    "overdue": 0,
    "urged": 0,
    "supervised": 0,
    **_NO_BACKLOG,
    "on_time_rate": 1.0,
    "average_handling_hours": (48 + 360 + 161) / 3,
    "p90_handling_hours": 360.0,
    "return_rate": 0.5,
    "rehandle_rate": 1 / 3,
    "satisfaction_rate": 0.5,
    "response_rate": 1.0,
    "resolution_rate": 1.0,
    # M1 M2 M3 sent; M1 M2 M6 delivered.
    "messages_sent": 3,
    "messages_delivered": 3,
    "delivery_rate": 2 / 3,
}

# The village-wide matters of 李家村 are C and I (E there is one person's): I was merged, C
# resolved late after being urged and supervised, and its reply never arrived.
LIJIA_VILLAGE_WIDE = Filters(village="李家村", scope_level="village")
EXPECTED_LIJIA_VILLAGE_WIDE: dict[str, Any] = {
    "received": 2,
    "accepted": 1,
    "answered_directly": 0,
    "dispatched": 1,
    "returned": 0,
    "resolved": 1,
    "closed": 0,
    "backlog": 0,
    "overdue": 1,
    "urged": 1,
    "supervised": 1,
    **_NO_BACKLOG,
    "on_time_rate": 0.0,
    "average_handling_hours": 256.5,
    "p90_handling_hours": 256.5,
    "return_rate": 0.0,
    "rehandle_rate": 0.0,
    "satisfaction_rate": 1.0,
    "response_rate": 1.0,
    "resolution_rate": 1.0,
    "messages_sent": 1,
    "messages_delivered": 0,
    "delivery_rate": 0.0,
}


def approx(expected: dict[str, Any]) -> dict[str, Any]:
    """The expected figures, compared as a float sum would come out of the database."""
    return {k: v if v is None else pytest.approx(v) for k, v in expected.items()}
