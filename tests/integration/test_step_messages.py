"""Every step of a case reaches its citizen, and every work order its department's liaisons.

Notify alone on PostgreSQL and RabbitMQ, fed the events routing and intake publish.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services import notify
from services.kernel.config import Settings
from services.kernel.events.contracts import (
    LIAISON_CONTACTS,
    CaseAccepted,
    CaseAnswered,
    CaseAssigned,
    CaseCoAssigned,
    CaseDeadlineNear,
    CaseExtensionDecided,
    CaseExtensionRequested,
    CaseMajorAlert,
    CaseMaterialRequested,
    CaseOverdue,
    CaseResolved,
    CaseRevisited,
    CaseSubmitted,
    CatalogueContactsPublished,
    Contact,
    DepartmentContacts,
    Kind,
    Language,
    LiaisonContact,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event
from services.kernel.runtime import ServiceRuntime
from services.kernel.sealing import REPORTER_CONTACT, sealer_for
from services.notify.models import Department, Message
from tests.support import TEST_SECRET, publish_envelopes, read_sms, wait_until

pytestmark = pytest.mark.integration

CITIZEN = "13700000001"
ENGLISH_CITIZEN = "13700000002"
REPORTER = "13700000003"
LIAISONS = ("13900000101", "13900000102")
# The second liaison is a supervisor too: one number hears of one event once.
SUPERVISORS = ("13900000102", "13900000201")
LEADER = "13900000301"
DEADLINE = date(2026, 12, 16)


def contacts_published() -> CatalogueContactsPublished:
    sealer = sealer_for(TEST_SECRET, LIAISON_CONTACTS)
    liaisons = [
        LiaisonContact(name=n, phone=p) for n, p in zip(("周敏", "王芳"), LIAISONS, strict=True)
    ]
    return CatalogueContactsPublished(
        departments=(
            DepartmentContacts(
                code="edu",
                name="县教育局",
                name_en="County Education Bureau",
                sealed_liaisons=sealer.seal(
                    "[" + ",".join(x.model_dump_json() for x in liaisons) + "]"
                ),
            ),
            DepartmentContacts(
                code="housing",
                name="县住建局",
                name_en="County Housing Bureau",
                sealed_liaisons=sealer.seal("[]"),
            ),
        )
    )


class Case:
    """One case's events, as intake and routing publish them."""

    def __init__(self, number: int, kind: Kind = "complaint") -> None:
        self.case_id = uuid.uuid4()
        self.tracking_no = f"20261201-{number:06d}"
        self.work_order_id = uuid.uuid4()
        self.kind = kind

    def submitted(
        self, phone: str, language: Language = "zh", *, answered_directly: bool = False
    ) -> CaseSubmitted:
        sealed = None
        contact = Contact(name="李先生", phone=phone)
        if self.kind == "tip-off":
            sealed = sealer_for(TEST_SECRET, REPORTER_CONTACT).seal(contact.model_dump_json())
            contact = Contact()
        return CaseSubmitted(
            case_id=self.case_id,
            tracking_no=self.tracking_no,
            access_code="ABC234",
            channel="web",
            kind=self.kind,
            category=None,
            description="举报人李先生说：学校门口的校车每天超载",
            location=None,
            contact=contact,
            sealed_contact=sealed,
            language=language,
            answered_directly=answered_directly,
            submitted_at=datetime.now(UTC),
            promised_date=DEADLINE,
        )

    def assigned(self, code: str = "edu") -> CaseAssigned:
        return CaseAssigned(
            case_id=self.case_id,
            tracking_no=self.tracking_no,
            work_order_id=self.work_order_id,
            department_code=code,
            department_name="县教育局" if code == "edu" else "县住建局",
            deadline=DEADLINE,
            matched_by="test",
            kind=self.kind,
            category=None,
            description="举报人李先生说：学校门口的校车每天超载",
            address="越溪乡河头村",
        )

    def moved(self, event: type[Event], action: str, **extra: Any) -> Event:
        facts: dict[str, Any] = {
            "case_id": self.case_id,
            "tracking_no": self.tracking_no,
            "work_order_id": self.work_order_id,
            "department_code": "edu",
            "order_role": "lead",
            "action": action,
            "from_status": "x",
            "to_status": "y",
            "actor_role": "handler",
            "reason": None,
            "occurred_at": datetime.now(UTC),
        }
        return event(**{**facts, **extra})

    def clock(self, event: type[CaseDeadlineNear | CaseOverdue]) -> Event:
        return event(
            case_id=self.case_id,
            tracking_no=self.tracking_no,
            work_order_id=self.work_order_id,
            department_code="edu",
            deadline=DEADLINE,
            due_at=datetime(2026, 12, 16, 9, tzinfo=UTC),
        )

    def resolved(self) -> CaseResolved:
        return CaseResolved(
            case_id=self.case_id,
            tracking_no=self.tracking_no,
            work_order_id=self.work_order_id,
            department_code="edu",
            department_name="县教育局",
            reply="已责令校车公司整改，超载车辆已停运。",
            resolved_at=datetime.now(UTC),
        )

    def major_alert(self) -> CaseMajorAlert:
        return CaseMajorAlert(
            case_id=self.case_id,
            tracking_no=self.tracking_no,
            work_order_id=self.work_order_id,
            reasons=("keyword:校车",),
            lead_department_code="edu",
            co_department_codes=(),
            scope_level="society",
            priority="urgent",
            kind=self.kind,
            category=None,
            description="举报人李先生说：学校门口的校车每天超载",
            address=None,
        )


def envelopes(case: Case, events: list[Event]) -> list[Envelope]:
    producer = "intake" if isinstance(events[0], CaseSubmitted) else "routing"
    return [e.envelope(producer=producer, case_id=case.case_id) for e in events]


@pytest.fixture
def notify_runtime(
    settings: Settings, running: list[ServiceRuntime]
) -> tuple[ServiceRuntime, Path]:
    configured = replace(settings, leader_phones=(LEADER,), supervisor_phones=SUPERVISORS)
    runtime = ServiceRuntime(notify.SERVICE, configured)
    runtime.start()
    running.append(runtime)
    publish_envelopes(settings.broker_url, [contacts_published().envelope(producer="routing")])

    def learned() -> bool:
        with runtime.database.session() as session:
            return bool(session.scalar(select(func.count()).select_from(Department)) == 2)

    wait_until(learned, 15)
    return runtime, settings.data_dir / "sms-outbox.jsonl"


def settled(outbox: Path, expected: int) -> list[dict[str, Any]]:
    """The outbox once `expected` lines are in, and after a pause that would let more arrive."""
    wait_until(lambda: len(read_sms(outbox)) >= expected, 30)
    time.sleep(1.5)
    return read_sms(outbox)


def test_a_case_walked_through_its_life_gives_each_step_to_each_recipient_once(
    settings: Settings, notify_runtime: tuple[ServiceRuntime, Path]
) -> None:
    runtime, outbox = notify_runtime
    case = Case(1)
    life = [
        case.submitted(CITIZEN),
        case.assigned(),
        case.moved(CaseAccepted, "sign_for"),
        # A co-handling department's steps are not the citizen's concern.
        case.moved(CaseAccepted, "sign_for", order_role="co", department_code="housing"),
        case.moved(CaseMaterialRequested, "request_material", reason="身份证复印件、校车的照片"),
        case.moved(
            CaseExtensionRequested,
            "request_extension",
            reason="需要交通部门联合检测",
            requested_due=date(2026, 12, 30),
        ),
        case.moved(
            CaseExtensionDecided,
            "approve_extension",
            actor_role="dispatcher",
            approved=True,
            requested_due=date(2026, 12, 30),
            deadline=date(2026, 12, 30),
        ),
        case.clock(CaseDeadlineNear),
        case.clock(CaseOverdue),
        case.major_alert(),
        case.resolved(),
        case.moved(CaseRevisited, "revisit", rating="satisfied"),
    ]
    published = envelopes(case, life[:1]) + envelopes(case, life[1:])
    publish_envelopes(settings.broker_url, published)

    sms = settled(outbox, 16)
    sent = Counter((m["to"], m["template"]) for m in sms)
    assert sent == Counter(
        {
            (CITIZEN, "case_received"): 1,
            (CITIZEN, "case_dispatched"): 1,
            (CITIZEN, "case_accepted"): 1,
            (CITIZEN, "case_material_requested"): 1,
            (CITIZEN, "case_extended"): 1,
            (CITIZEN, "case_resolved"): 1,
            (CITIZEN, "case_revisited"): 1,
            (LIAISONS[0], "work_order_arrived"): 1,
            (LIAISONS[1], "work_order_arrived"): 1,
            (LIAISONS[0], "work_order_due_soon"): 1,
            (LIAISONS[1], "work_order_due_soon"): 1,
            (SUPERVISORS[1], "work_order_due_soon"): 1,
            (LIAISONS[0], "work_order_overdue"): 1,
            (LIAISONS[1], "work_order_overdue"): 1,
            (SUPERVISORS[1], "work_order_overdue"): 1,
            (LEADER, "major_alert"): 1,
        }
    )
    text = {(m["to"], m["template"]): m["text"] for m in sms}
    assert all(m["segments"] == 1 for m in sms if m["template"] != "case_material_requested")
    assert "身份证复印件、校车的照片" in text[(CITIZEN, "case_material_requested")]
    assert "12月30日" in text[(CITIZEN, "case_extended")]
    assert "需要交通部门联合检测" in text[(CITIZEN, "case_extended")]
    assert "县教育局" in text[(CITIZEN, "case_accepted")]
    assert text[(LIAISONS[0], "work_order_arrived")] == (
        "【民情12345】县教育局新主办单20261201-000001（投诉）请签收，12月16日前办结"
    )
    assert text[(LEADER, "major_alert")] == (
        "【民情12345】重大事项20261201-000001：投诉，全社会，紧急，县教育局牵头。"
    )
    # Every message is on the case, for its timeline, with its delivery status.
    with runtime.database.session() as session:
        statuses = list(
            session.scalars(select(Message.status).where(Message.case_id == case.case_id))
        )
    assert len(statuses) == 16

    # The whole life delivered again changes nothing.
    publish_envelopes(settings.broker_url, published)
    time.sleep(2)
    assert len(read_sms(outbox)) == 16


def test_a_citizen_who_chose_english_reads_english_and_staff_read_chinese(
    settings: Settings, notify_runtime: tuple[ServiceRuntime, Path]
) -> None:
    _, outbox = notify_runtime
    case = Case(2)
    publish_envelopes(settings.broker_url, envelopes(case, [case.submitted(ENGLISH_CITIZEN, "en")]))
    publish_envelopes(
        settings.broker_url,
        envelopes(case, [case.assigned(), case.moved(CaseAccepted, "sign_for"), case.resolved()]),
    )

    sms = settled(outbox, 6)
    mine = {m["template"]: m["text"] for m in sms if m["to"] == ENGLISH_CITIZEN}
    assert mine == {
        "case_received": "[Minqing 12345]Case 20261201-000002 received. Access code ABC234. "
        "We will answer by 16 Dec.",
        "case_dispatched": "[Minqing 12345]Case 20261201-000002 is now with County Education "
        "Bureau, who will answer by 16 Dec.",
        "case_accepted": "[Minqing 12345]Case 20261201-000002 has been taken on by County "
        "Education Bureau and is being handled.",
        "case_resolved": "[Minqing 12345]Case 20261201-000002 is resolved, see the answer on the "
        "case page. Rate it by reply: 1 satisfied, 2 fair, 3 dissatisfied.",
    }
    staff = [m["text"] for m in sms if m["to"] in LIAISONS]
    assert staff
    assert all(t.startswith("【民情12345】县教育局新主办单") for t in staff)


def test_liaison_messages_about_a_tip_off_never_carry_the_reporter(
    settings: Settings, notify_runtime: tuple[ServiceRuntime, Path]
) -> None:
    _, outbox = notify_runtime
    case = Case(3, kind="tip-off")
    publish_envelopes(settings.broker_url, envelopes(case, [case.submitted(REPORTER)]))
    publish_envelopes(
        settings.broker_url,
        envelopes(case, [case.assigned(), case.clock(CaseOverdue), case.major_alert()]),
    )

    sms = settled(outbox, 8)
    staff = [m for m in sms if m["to"] != REPORTER]
    assert {m["template"] for m in staff} == {
        "work_order_arrived",
        "work_order_overdue",
        "major_alert",
    }
    for message in staff:
        for secret in (REPORTER, "李先生", "校车", "河头村"):
            assert secret not in message["text"], message
    # The reporter still hears of their own case, through the sealed contact.
    assert [m["template"] for m in sms if m["to"] == REPORTER] == [
        "case_received",
        "case_dispatched",
    ]


def test_a_co_handling_order_and_a_direct_answer(
    settings: Settings, notify_runtime: tuple[ServiceRuntime, Path]
) -> None:
    _, outbox = notify_runtime
    answered, co_handled = Case(4, kind="consultation"), Case(5)
    publish_envelopes(
        settings.broker_url,
        envelopes(answered, [answered.submitted(CITIZEN)])
        + envelopes(
            co_handled, [co_handled.submitted(ENGLISH_CITIZEN, "en", answered_directly=True)]
        ),
    )
    co_order = CaseCoAssigned(
        **{
            **co_handled.moved(CaseAccepted, "co_assign", order_role="co").model_dump(),
            "lead_work_order_id": uuid.uuid4(),
            "lead_department_code": "housing",
            "department_name": "县教育局",
            "deadline": DEADLINE,
            "kind": "complaint",
            "category": None,
            "description": "x",
            "address": None,
        }
    )
    publish_envelopes(
        settings.broker_url,
        envelopes(
            answered,
            [answered.moved(CaseAnswered, "answer", actor_role="dispatcher", reason="可以办理。")],
        )
        + envelopes(co_handled, [co_order]),
    )

    sms = settled(outbox, 5)
    assert Counter((m["to"], m["template"]) for m in sms) == Counter(
        {
            (CITIZEN, "case_received"): 1,
            (CITIZEN, "case_answered"): 1,
            (ENGLISH_CITIZEN, "case_answered_directly"): 1,
            (LIAISONS[0], "work_order_arrived"): 1,
            (LIAISONS[1], "work_order_arrived"): 1,
        }
    )
    answer = next(m["text"] for m in sms if m["template"] == "case_answered")
    assert answer.endswith("已直接答复：可以办理。")
    arrived = next(m["text"] for m in sms if m["template"] == "work_order_arrived")
    assert "新会办单" in arrived
