"""Cases of October and November 2026 with the hot spots and the open data they must give,
worked out by hand below.

November 2026 in China Standard Time is 2026-10-31T16:00Z to 2026-11-30T16:00Z; the period
before it, of the same 30 days, is 2 to 31 October (2026-10-01T16:00Z to 2026-10-31T16:00Z).
Moments are written in UTC; the comments say where the day in China matters. Every case carries
a description, a contact and coordinates full of personal data that must never come out of
reporting's open data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.kernel.events.contracts import (
    CaseAssigned,
    CaseMerged,
    CaseResolved,
    CaseSubmitted,
    Contact,
    Location,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event
from services.reporting.kpis import Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
WANGJIA = "越溪乡王家村12号"  # the house number must never be published
LIJIA = "越溪乡李家村3组"
CHENGGUAN = "城关镇人民路88号"  # a township and a street: no village
DONGJIE = "城关镇东街社区5栋201"
# What each case's citizen wrote and left: none of it may appear in open data.
CITIZEN = "张秀英"
PHONE = "13812345678"
EMAIL = "zhangxy@example.com"
DESCRIPTION = f"我是{CITIZEN}，家住{WANGJIA}，自来水发黄，电话{PHONE}"
LAT, LON = 30.123456, 120.654321
PERSONAL = (CITIZEN, PHONE, EMAIL, "12号", "3组", "88号", "201", "发黄", "30.12", "120.65")

CASES: dict[str, uuid.UUID] = {}


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def tracking_no(case: str) -> str:
    return f"2026HS-{case}"


def _on(event: Event, moment: datetime, producer: str) -> Envelope:
    case_id = getattr(event, "case_id", None)
    return event.envelope(producer=producer, case_id=case_id).model_copy(
        update={"occurred_at": moment}
    )


def submitted(
    case: str,
    moment: datetime,
    address: str,
    category: str | None,
    kind: Any = "complaint",
    scope_level: Any = "village",
    channel: Any = "web",
) -> Envelope:
    event = CaseSubmitted(
        case_id=CASES.setdefault(case, uuid.uuid4()),
        tracking_no=tracking_no(case),
        access_code="ABC234",
        channel=channel,
        kind=kind,
        category=category,
        description=DESCRIPTION,
        location=Location(address=address, lat=LAT, lon=LON),
        contact=Contact(name=CITIZEN, phone=PHONE, email=EMAIL),
        scope_level=scope_level,
        submitted_at=moment,
        promised_date=date(2026, 12, 16),
    )
    return _on(event, moment, "intake")


def assigned(case: str, moment: datetime) -> Envelope:
    event = CaseAssigned(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        work_order_id=uuid.uuid4(),
        department_code="water",
        department_name="县水利局",
        deadline=date(2026, 12, 10),
        matched_by="test",
        kind="complaint",
        category=None,
        description=DESCRIPTION,
        address=WANGJIA,
    )
    return _on(event, moment, "routing")


def resolved(case: str, moment: datetime) -> Envelope:
    event = CaseResolved(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        work_order_id=uuid.uuid4(),
        department_code="water",
        department_name="县水利局",
        reply=f"已联系{CITIZEN}处理",
        resolved_at=moment,
    )
    return _on(event, moment, "routing")


def merged(case: str, into: str, moment: datetime) -> Envelope:
    event = CaseMerged(
        case_id=CASES[case],
        tracking_no=tracking_no(case),
        into_case_id=CASES[into],
        into_tracking_no=tracking_no(into),
        merged_by="d-01",
    )
    return _on(event, moment, "intake")


def history() -> list[Envelope]:
    """Every event of the two months, in the order they happened."""
    return [
        # Roads in 城关镇, no village: R0 on 1 October in China, a day before the previous
        # period; R1 at 00:30 on 2 October in China (still 1 October in UTC), inside it.
        submitted("R0", at(9, 30, 18), CHENGGUAN, "道路"),
        submitted("R1", at(10, 1, 16, 30), CHENGGUAN, "道路"),
        # Drinking water in 王家村: one complaint in October.
        submitted("W0", at(10, 20), WANGJIA, "饮用水"),
        # Noise in 东街社区: three in October.
        submitted("N0", at(10, 5), DONGJIE, "噪声"),
        submitted("N1", at(10, 6), DONGJIE, "噪声"),
        submitted("N2", at(10, 7), DONGJIE, "噪声"),
        # W1 at 00:00 on 1 November in China (31 October in UTC): November's.
        submitted("W1", at(10, 31, 16), WANGJIA, "饮用水"),
        assigned("W1", at(10, 31, 17)),
        submitted("W2", at(11, 3), WANGJIA, "饮用水", channel="hotline"),
        assigned("W2", at(11, 3, 1)),
        resolved("W2", at(11, 6)),
        submitted("W3", at(11, 5), WANGJIA, "饮用水"),
        submitted("W4", at(11, 9), WANGJIA, "饮用水", channel="hotline"),
        # W9: the same burst pipe as W4, merged into it the same day.
        submitted("W9", at(11, 9, 2), WANGJIA, "饮用水"),
        merged("W9", "W4", at(11, 9, 3)),
        submitted("W5", at(11, 12), WANGJIA, "饮用水"),
        submitted("W6", at(11, 20), WANGJIA, "饮用水", channel="hotline"),
        # W7: 01:00 on 1 December in China, though still 30 November in UTC.
        submitted("W7", at(11, 30, 17), WANGJIA, "饮用水"),
        # A family in 王家村 asks for help with its water: another kind, another group.
        submitted("H1", at(11, 8), WANGJIA, "饮用水", kind="help", scope_level="family"),
        # Two complaints about water in 李家村, the next village.
        submitted("L1", at(11, 10), LIJIA, "饮用水"),
        submitted("L2", at(11, 11), LIJIA, "饮用水", scope_level=None),
        submitted("R2", at(11, 4), CHENGGUAN, "道路"),
        submitted("R3", at(11, 14), CHENGGUAN, "道路", scope_level="society"),
        submitted("R4", at(11, 15), CHENGGUAN, "道路", kind="suggestion"),
        submitted("R5", at(11, 16), CHENGGUAN, "道路"),
        submitted("N3", at(11, 2), DONGJIE, "噪声", scope_level="individual"),
        submitted("N4", at(11, 3, 6), DONGJIE, "噪声"),
        submitted("N5", at(11, 4, 6), DONGJIE, "噪声"),
        submitted("N6", at(11, 5, 6), DONGJIE, "噪声"),
        # Five tip-offs about a polluting workshop in 王家村.
        *(
            submitted(f"T{n}", at(11, 10 + n), WANGJIA, "环境保护", kind="tip-off")
            for n in range(1, 6)
        ),
    ]


# Worked out by hand. November's groups, with the period before (2–31 October):
#   饮用水/越溪乡/王家村/complaint  W1 W2 W3 W4 W5 W6 = 6 (W9 merged, W7 December); before W0 = 1
#   环境保护/越溪乡/王家村/tip-off  T1–T5 = 5; before 0
#   噪声/城关镇/东街社区/complaint  N3–N6 = 4; before N0 N1 N2 = 3
#   道路/城关镇/-/complaint         R2 R3 R5 = 3 (R4 a suggestion); before R1 = 1 (R0 too early)
#   饮用水/越溪乡/李家村/complaint  L1 L2 = 2; before 0
#   饮用水/越溪乡/王家村/help       H1 = 1;    道路/城关镇/-/suggestion R4 = 1
# By default (5 or more, or at least 3 and at least twice as many as before):
EXPECTED_DEFAULT: list[dict[str, Any]] = [
    {
        "category": "饮用水",
        "kind": "complaint",
        "township": "越溪乡",
        "village": "王家村",
        "cases": 6,
        "previous_cases": 1,
        "reasons": ["many", "rising"],
        "tracking_numbers": [tracking_no(c) for c in ("W1", "W2", "W3", "W4", "W5", "W6")],
    },
    {
        "category": "环境保护",
        "kind": "tip-off",
        "township": "越溪乡",
        "village": "王家村",
        "cases": 5,
        "previous_cases": 0,
        "reasons": ["many", "rising"],
        "tracking_numbers": [tracking_no(f"T{n}") for n in range(1, 6)],
    },
    {
        "category": "道路",
        "kind": "complaint",
        "township": "城关镇",
        "village": None,
        "cases": 3,
        "previous_cases": 1,
        "reasons": ["rising"],
        "tracking_numbers": [tracking_no(c) for c in ("R2", "R3", "R5")],
    },
]
# With min_cases=2 the bar for a rise drops to 2 as well: 东街社区 is many (4, but not twice
# its 3), 李家村 is many and rising (2 from none).
EXPECTED_MIN_2: list[dict[str, Any]] = [
    {**EXPECTED_DEFAULT[0]},
    {**EXPECTED_DEFAULT[1]},
    {
        "category": "噪声",
        "kind": "complaint",
        "township": "城关镇",
        "village": "东街社区",
        "cases": 4,
        "previous_cases": 3,
        "reasons": ["many"],
        "tracking_numbers": [tracking_no(c) for c in ("N3", "N4", "N5", "N6")],
    },
    {**EXPECTED_DEFAULT[2], "reasons": ["many", "rising"]},
    {
        "category": "饮用水",
        "kind": "complaint",
        "township": "越溪乡",
        "village": "李家村",
        "cases": 2,
        "previous_cases": 0,
        "reasons": ["many", "rising"],
        "tracking_numbers": [tracking_no("L1"), tracking_no("L2")],
    },
]

# November's open data: every case submitted in November in China but the tip-offs, in the
# order they came (W9 was merged, so it is closed; W2 resolved; W1 and W2 at 县水利局).
EXPECTED_OPEN_DATA_IDS = [
    tracking_no(c)
    for c in (
        "W1",
        "N3",
        "W2",
        "N4",
        "R2",
        "N5",
        "W3",
        "N6",
        "H1",
        "W4",
        "W9",
        "L1",
        "L2",
        "W5",
        "R3",
        "R4",
        "R5",
        "W6",
    )
]
# The address published for each kind of case: the village only when the matter is wider
# than a household, and no house ever.
EXPECTED_ADDRESSES = {
    tracking_no("W3"): "越溪乡王家村",
    tracking_no("H1"): "越溪乡",  # a family's matter
    tracking_no("L2"): "越溪乡",  # nobody said whom it concerns
    tracking_no("N3"): "城关镇",  # an individual's
    tracking_no("N4"): "城关镇东街社区",
    tracking_no("R3"): "城关镇",  # no village in the address
}
EXPECTED_W2 = {
    "service_request_id": tracking_no("W2"),
    "status": "closed",
    "service_name": "饮用水",
    "agency_responsible": "县水利局",
    "requested_datetime": "2026-11-03T08:00:00+08:00",
    "updated_datetime": "2026-11-06T08:00:00+08:00",
    "expected_datetime": None,
    "address": "越溪乡王家村",
    "kind": "complaint",
    "channel": "hotline",
}
