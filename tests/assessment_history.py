"""A month of case events for the assessment, with the scores the shipped rules must give,
worked out by hand below.

The period is November 2026 in China Standard Time. Two departments (trans, water) hold the
cases in the end; edu only returned one (B) on its way and holds none, so the read model never
learns its name; water also returned its co-handling order on a case trans leads (H). Two
officials took cases on visits: gb-01 张伟 (A, B) and gb-02 刘芳 (D, E, G). Moments are written
in UTC; the comments say where the day in China matters.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAssigned,
    CaseRated,
    CaseRehandled,
    CaseResolved,
    CaseReturned,
    CaseRevisited,
    CaseSubmitted,
    Contact,
    FirstContact,
    WorkOrderMoved,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event

# Z never appears in the month: a test sends it last to know the rest has been handled.
CASES = {letter: uuid.uuid4() for letter in "ABCDEFGHZ"}
ORDERS = {letter: uuid.uuid4() for letter in CASES}
DEPARTMENTS = {"trans": "交通运输局", "water": "水务局", "edu": "教育局"}
ZHANG = FirstContact(staff_id="gb-01", name="张伟", unit="城关镇")
LIU = FirstContact(staff_id="gb-02", name="刘芳", unit="城关镇")


def tracking_no(case: str) -> str:
    return f"202611-{case}"


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _on(event: Event, moment: datetime, producer: str) -> Envelope:
    envelope = event.envelope(producer=producer, case_id=getattr(event, "case_id", None))
    return envelope.model_copy(update={"occurred_at": moment})


def submitted(case: str, moment: datetime, official: FirstContact | None = None) -> Envelope:
    event = CaseSubmitted(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        access_code="ABC234",
        channel="web" if official is None else "visit",
        kind="complaint",
        category="roads",
        description="x",
        location=None,
        contact=Contact(phone="13700000000"),
        first_contact=official,
        submitted_at=moment,
        promised_date=date(2026, 12, 16),
    )
    return _on(event, moment, "intake")


def assigned(case: str, moment: datetime, department: str, deadline: date) -> Envelope:
    event = CaseAssigned(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        work_order_id=ORDERS[case],
        department_code=department,
        department_name=DEPARTMENTS[department],
        deadline=deadline,
        matched_by="test",
        kind="complaint",
        category=None,
        description="x",
        address=None,
    )
    return _on(event, moment, "routing")


def moved(kind: type[WorkOrderMoved], case: str, moment: datetime, **extra: Any) -> Envelope:
    """A move of the case's lead work order, unless `extra` says whose order it is."""
    fields: dict[str, Any] = {
        "work_order_id": ORDERS[case],
        "department_code": None,
        "order_role": "lead",
        **extra,
    }
    event = kind(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        action="test",
        from_status="a",
        to_status="b",
        actor_role="handler",
        reason=None,
        occurred_at=moment,
        **fields,
    )
    return _on(event, moment, "routing")


def returned(case: str, moment: datetime, department: str, role: str = "lead") -> Envelope:
    """`department` sends its work order on the case back (退单); a co-handling order is its own."""
    order = ORDERS[case] if role == "lead" else uuid.uuid5(ORDERS[case], department)
    return moved(
        CaseReturned,
        case,
        moment,
        reason_code="wrong-function",
        work_order_id=order,
        department_code=department,
        order_role=role,
    )


def resolved(case: str, moment: datetime) -> Envelope:
    event = CaseResolved(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
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
        tracking_no=tracking_no(case),
        channel="sms",
        rating=rating,
        comment=None,
        department_code=None,
        rated_at=moment,
    )
    return _on(event, moment, "intake")


def history() -> list[Envelope]:
    """Every event of the month, in the order they happened."""
    return [
        # A (张伟, trans): on time, satisfied, revisited.
        submitted("A", at(11, 2, 2), ZHANG),
        assigned("A", at(11, 2, 3), "trans", date(2026, 11, 10)),
        moved(CaseAccepted, "A", at(11, 2, 5)),
        resolved("A", at(11, 4, 2)),
        rated("A", at(11, 5), "satisfied"),
        moved(CaseRevisited, "A", at(11, 5, 1), rating="satisfied"),
        # B (张伟): returned by edu, given to trans, resolved on Wednesday the 18th against the
        # 14th (a Saturday): 4 days, 3 working days late; dissatisfied, re-handled once.
        submitted("B", at(11, 3), ZHANG),
        assigned("B", at(11, 3, 1), "edu", date(2026, 11, 12)),
        returned("B", at(11, 3, 6), "edu"),
        assigned("B", at(11, 4), "trans", date(2026, 11, 14)),
        resolved("B", at(11, 18, 2)),
        rated("B", at(11, 19), "dissatisfied"),
        moved(CaseRehandled, "B", at(11, 19, 1), rehandles=1, supervision=False),
        resolved("B", at(11, 22)),
        # C (web, water): resolved at 00:30 on the 16th in China against the 10th: 6 days, 4
        # working days late; basically satisfied, revisited.
        submitted("C", at(11, 5)),
        assigned("C", at(11, 5, 1), "water", date(2026, 11, 10)),
        resolved("C", at(11, 15, 16, 30)),
        rated("C", at(11, 16, 2), "basically-satisfied"),
        moved(CaseRevisited, "C", at(11, 16, 3), rating="basically-satisfied"),
        # D (刘芳, water): on time, satisfied, revisited.
        submitted("D", at(11, 6), LIU),
        assigned("D", at(11, 6, 1), "water", date(2026, 11, 20)),
        resolved("D", at(11, 12)),
        rated("D", at(11, 13), "satisfied"),
        moved(CaseRevisited, "D", at(11, 13, 1), rating="satisfied"),
        # E (刘芳, trans): dispatched, not resolved.
        submitted("E", at(11, 20), LIU),
        assigned("E", at(11, 21), "trans", date(2026, 12, 5)),
        # F (web, water): dispatched in October, resolved at 01:00 on 1 November in China.
        submitted("F", at(10, 25)),
        assigned("F", at(10, 25, 1), "water", date(2026, 11, 5)),
        resolved("F", at(10, 31, 17)),
        # G (刘芳, trans): resolved and rated on 1 December in China, though 30 November in UTC
        # for the resolution: December's, not November's.
        submitted("G", at(11, 25), LIU),
        assigned("G", at(11, 25, 1), "trans", date(2026, 12, 5)),
        resolved("G", at(11, 30, 16, 30)),
        rated("G", at(12, 1, 2), "satisfied"),
        # H (web, trans): water, asked to help (会诊), returns its co-handling order; trans goes
        # on with the case, not resolved. Reporting reads only the return of water's order.
        submitted("H", at(11, 9)),
        assigned("H", at(11, 9, 1), "trans", date(2026, 11, 30)),
        returned("H", at(11, 10), "water", role="co"),
    ]


# Worked by the shipped rules (on-time weight 30, late -2, satisfaction weight 40, returns -1
# each, re-handles -3 each, revisits +1). A return counts against the department that made it:
#   water   on time C✗ D✓ F✓ 30×2/3 = 20; late C −2; satisfied C✓ D✓ 40; dispatched C D, and
#           H, its co-handling order on which it returned −1; resolved C D F, no re-handles 0;
#           revisited C D +2                                                       → 59
#   trans   on time A✓ B✗ 15; late B −2; satisfied A✓ B✗ 20; dispatched A B E G H, none
#           returned by trans 0; resolved A B, B re-handled once −3; revisited A +1 → 31
#   edu     holds no case; dispatched B, which it returned once −1; no rule but the one on
#           returns looks at a case it returned without holding it               → −1
#   gb-02   D E G: on time D 30; satisfied D 40; revisited D +1                    → 71
#   gb-01   A B: on time A 30×1/2 = 15; late B −2; satisfied A 20; B returned once, by edu,
#           −1 (an official answers for every return of the cases they took); B re-handled
#           once −3; revisited A +1                                                → 30
EXPECTED_DEPARTMENTS = [
    (
        1,
        "water",
        "水务局",
        59,
        {
            "on-time": 20,
            "late": -2,
            "satisfaction": 40,
            "returns": -1,
            "rehandles": 0,
            "revisits": 2,
        },
    ),
    (
        2,
        "trans",
        "交通运输局",
        31,
        {
            "on-time": 15,
            "late": -2,
            "satisfaction": 20,
            "returns": 0,
            "rehandles": -3,
            "revisits": 1,
        },
    ),
    # Known by its code alone: no case the read model holds was ever edu's at the end.
    (
        3,
        "edu",
        "edu",
        -1,
        {"on-time": 0, "late": 0, "satisfaction": 0, "returns": -1, "rehandles": 0, "revisits": 0},
    ),
]
EXPECTED_OFFICIALS = [
    (
        1,
        "gb-02",
        "刘芳",
        71,
        {"on-time": 30, "late": 0, "satisfaction": 40, "returns": 0, "rehandles": 0, "revisits": 1},
    ),
    (
        2,
        "gb-01",
        "张伟",
        30,
        {
            "on-time": 15,
            "late": -2,
            "satisfaction": 20,
            "returns": -1,
            "rehandles": -3,
            "revisits": 1,
        },
    ),
]

# water's points case by case: (rule, points, [(tracking number, points, fact)]).
EXPECTED_WATER_CASES = [
    (
        "on-time",
        20,
        [
            (
                "202611-C",
                0,
                "resolved on 2026-11-16, 6 days (4 working days) after its deadline 2026-11-10",
            ),
            ("202611-D", 10, "resolved on 2026-11-12, deadline 2026-11-20"),
            ("202611-F", 10, "resolved on 2026-11-01, deadline 2026-11-05"),
        ],
    ),
    (
        "late",
        -2,
        [
            (
                "202611-C",
                -2,
                "resolved on 2026-11-16, 6 days (4 working days) after its deadline 2026-11-10",
            )
        ],
    ),
    (
        "satisfaction",
        40,
        [
            ("202611-C", 20, "rated basically-satisfied on 2026-11-16"),
            ("202611-D", 20, "rated satisfied on 2026-11-13"),
        ],
    ),
    ("returns", -1, [("202611-H", -1, "returned once by 水务局")]),
    ("rehandles", 0, []),
    (
        "revisits",
        2,
        [
            ("202611-C", 1, "revisited once, first on 2026-11-16"),
            ("202611-D", 1, "revisited once, first on 2026-11-13"),
        ],
    ),
]

# 张伟's points that B earned: the rule, the points and the fact.
EXPECTED_ZHANG_B = {
    "late": (-2, "resolved on 2026-11-18, 4 days (3 working days) after its deadline 2026-11-14"),
    "satisfaction": (0, "rated dissatisfied on 2026-11-19"),
    "returns": (-1, "returned once by edu"),
    "rehandles": (-3, "re-handled once"),
}

# edu's points: the one case it returned, and nothing else of it (its resolution is trans's).
EXPECTED_EDU = {
    "on-time": (0, []),
    "late": (0, []),
    "satisfaction": (0, []),
    "returns": (-1, [("202611-B", -1, "returned once by edu", "被 edu 退单 1 次")]),
    "rehandles": (0, []),
    "revisits": (0, []),
}
