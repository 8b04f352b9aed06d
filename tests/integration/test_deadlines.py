"""Deadlines on PostgreSQL and RabbitMQ: the promise in `case.assigned`, the scan that reminds,
urges and supervises once per order (skipping paused ones), and the supervisors' own hand."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services import routing
from services.kernel.clock import utcnow
from services.kernel.config import Settings, load_settings
from services.kernel.events import Envelope
from services.kernel.events.contracts import CaseSubmitted, Contact
from services.kernel.migrations import upgrade
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.kernel.workdays import LOCAL_TZ
from services.routing.catalogue import load_catalogue, sync_catalogue
from services.routing.deadlines import due_at as deadline_after
from services.routing.deadlines import (
    end_of_day,
    fix_promise,
    load_policy,
    on_pause,
    on_resume,
)
from services.routing.escalation import ScanResult, scan_deadlines
from services.routing.models import Escalation, WorkOrder
from tests.integration.cross_channel import EventTap, staff_headers
from tests.support import publish_envelopes, wait_until

pytestmark = pytest.mark.integration


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)  # type: ignore[misc]


# Dispatched on Tuesday 1 December 2026: a complaint is due as Friday 18 December ends.
DISPATCHED = local(2026, 12, 1, 9, 0)
DUE = end_of_day(date(2026, 12, 18))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[ServiceRuntime]:
    """Routing on its PostgreSQL database, the catalogue loaded, nothing running in background."""
    runtime = ServiceRuntime(routing.SERVICE, settings)
    with runtime.work() as work:
        sync_catalogue(work.session, load_catalogue())
    yield runtime
    runtime.database.dispose()


def add_order(
    runtime: ServiceRuntime, *, status: str = "dispatched", dispatched: datetime = DISPATCHED
) -> uuid.UUID:
    order = WorkOrder(
        id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        tracking_no="20261201-000001",
        department_code="edu",
        status=status,
        matched_by="test",
        kind="complaint",
        category=None,
        description="校车超载",
        address=None,
        deadline=date(2026, 12, 16),
        created_at=dispatched,
        updated_at=dispatched,
    )
    fix_promise(order, dispatched)
    with runtime.work() as work:
        work.session.add(order)
    return order.id


def scan(runtime: ServiceRuntime, now: datetime) -> ScanResult:
    with runtime.work() as work:
        return scan_deadlines(work, now)


def outbox(runtime: ServiceRuntime, event_type: str) -> list[dict[str, Any]]:
    """The payloads of `event_type` routing recorded for the bus, oldest first."""
    with runtime.database.session() as session:
        bodies = session.scalars(
            text(
                "SELECT body FROM outbox WHERE event_type = :type AND exchange = 'minqing.events'"
                " ORDER BY id"
            ),
            {"type": event_type},
        ).all()
    return [json.loads(body)["data"] for body in bodies]


def order_of(runtime: ServiceRuntime, order_id: uuid.UUID) -> WorkOrder:
    with runtime.database.session() as session:
        order = session.get(WorkOrder, order_id)
        assert order is not None
        session.expunge(order)
        return order


def test_the_scan_reminds_marks_overdue_urges_and_supervises_each_once(
    runtime: ServiceRuntime,
) -> None:
    running = add_order(runtime)
    paused = add_order(runtime)
    resolved = add_order(runtime, status="resolved")
    with runtime.work() as work:
        order = work.session.get(WorkOrder, paused)
        assert order is not None
        on_pause(order, local(2026, 12, 10, 9, 0))

    assert scan(runtime, local(2026, 12, 16, 23, 0)) == ScanResult(0, 0, 0, 0)
    # The working day before the deadline.
    assert scan(runtime, local(2026, 12, 17, 9, 0)) == ScanResult(1, 0, 0, 0)
    assert scan(runtime, local(2026, 12, 17, 9, 5)) == ScanResult(0, 0, 0, 0)
    # Saturday: overdue, but urged only on the next working day.
    assert scan(runtime, local(2026, 12, 19, 9, 0)) == ScanResult(0, 1, 0, 0)
    assert scan(runtime, local(2026, 12, 21, 9, 0)) == ScanResult(0, 0, 1, 0)
    # Still overdue three working days after the deadline: supervision.
    assert scan(runtime, local(2026, 12, 23, 0, 1)) == ScanResult(0, 0, 0, 1)
    assert scan(runtime, local(2026, 12, 30, 9, 0)) == ScanResult(0, 0, 0, 0)

    for event_type in ("case.deadline_near", "case.overdue", "case.urged", "case.supervised"):
        [payload] = outbox(runtime, event_type)
        assert payload["work_order_id"] == str(running)
        assert payload["deadline"] == "2026-12-18"
        assert payload["department_code"] == "edu"
    [urged] = outbox(runtime, "case.urged")
    assert urged["automatic"] is True
    assert urged["staff_id"] is None
    done = order_of(runtime, running)
    assert (done.urges, done.supervisions) == (1, 1)
    assert done.overdue_at == local(2026, 12, 19, 9, 0)
    for untouched in (paused, resolved):
        order = order_of(runtime, untouched)
        assert order.reminded_at is order.overdue_at is order.urged_at is None
        assert order.supervised_at is None


def test_a_resumed_order_is_scanned_against_its_moved_deadline(runtime: ServiceRuntime) -> None:
    order_id = add_order(runtime)
    with runtime.work() as work:
        order = work.session.get(WorkOrder, order_id)
        assert order is not None
        on_pause(order, local(2026, 12, 7, 10, 0))
        on_resume(order, local(2026, 12, 9, 15, 0))
    assert order_of(runtime, order_id).deadline == date(2026, 12, 22)
    # What would have been overdue is not: the two paused working days are not counted.
    assert scan(runtime, local(2026, 12, 19, 9, 0)) == ScanResult(0, 0, 0, 0)
    assert scan(runtime, local(2026, 12, 21, 9, 0)) == ScanResult(1, 0, 0, 0)
    assert scan(runtime, local(2026, 12, 23, 9, 0)) == ScanResult(0, 1, 1, 0)


def test_concurrent_scans_claim_every_step_of_every_order_once(runtime: ServiceRuntime) -> None:
    orders = {add_order(runtime) for _ in range(40)}
    now = local(2027, 1, 15, 9, 0)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: scan(runtime, now), range(8)))
    assert sum(r.overdue for r in results) == len(orders)
    assert sum(r.urged for r in results) == len(orders)
    assert sum(r.supervised for r in results) == len(orders)
    assert {uuid.UUID(p["work_order_id"]) for p in outbox(runtime, "case.supervised")} == orders
    assert len(outbox(runtime, "case.supervised")) == len(orders)


def submitted(urgency: str = "normal") -> Envelope:
    case_id = uuid.uuid4()
    return CaseSubmitted(
        case_id=case_id,
        tracking_no=f"20261201-{uuid.uuid4().int % 1_000_000:06d}",
        access_code="ABCDEF",
        channel="web",
        kind="consultation",
        category="教育",
        description="孩子转学需要什么材料",
        location=None,
        contact=Contact(phone="13812345678"),
        urgency=urgency,  # type: ignore[arg-type]
        submitted_at=utcnow(),
        # Intake's own promise, which dispatch replaces with the department's deadline.
        promised_date=date(2026, 12, 31),
    ).envelope(producer="intake", case_id=case_id)


def test_dispatch_fixes_the_promise_and_case_assigned_carries_it(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = ServiceRuntime(routing.SERVICE, settings)
    runtime.start()
    running.append(runtime)
    assert runtime.wait_ready()
    tap = EventTap(settings.broker_url)
    try:
        normal, major = submitted(), submitted("extra-urgent")
        publish_envelopes(settings.broker_url, [normal, major])

        def assigned() -> dict[str, dict[str, Any]]:
            found = {}
            for body in tap.drain():
                envelope = json.loads(body)
                if envelope["type"] == "case.assigned":
                    found[envelope["case_id"]] = envelope["data"]
            return found if len(found) == 2 else {}

        events = wait_until(assigned, 30)
    finally:
        tap.close()
    with runtime.database.session() as session:
        orders = {str(o.case_id): o for o in session.scalars(select(WorkOrder))}
    policy = load_policy()

    consultation = orders[str(normal.case_id)]
    assert consultation.due_at == deadline_after(
        policy.limit_for("consultation"), consultation.created_at
    )
    assert consultation.deadline == consultation.due_at.astimezone(LOCAL_TZ).date()
    assert events[str(normal.case_id)]["deadline"] == consultation.deadline.isoformat()

    urgent = orders[str(major.case_id)]
    assert urgent.deadline_basis == "hours"
    # Twenty-four hours from the moment of dispatch, a moment after the order was registered.
    assert (
        timedelta(0)
        <= urgent.due_at - (urgent.created_at + timedelta(hours=24))
        < timedelta(seconds=5)
    )
    assert events[str(major.case_id)]["deadline"] == urgent.deadline.isoformat()


def test_the_periodic_scan_runs_on_the_celery_worker(
    runtime: ServiceRuntime, running: list[ServiceRuntime]
) -> None:
    # Dispatched long enough ago that, by the real clock, even supervision is due.
    order_id = add_order(runtime, dispatched=utcnow() - timedelta(days=60))
    runtime.start()
    running.append(runtime)
    wait_until(lambda: order_of(runtime, order_id).supervised_at is not None, 30)
    assert [p["work_order_id"] for p in outbox(runtime, "case.overdue")] == [str(order_id)]
    # Its deadline passed before any scan saw it: a reminder now would come too late.
    assert order_of(runtime, order_id).reminded_at is None
    assert outbox(runtime, "case.deadline_near") == []


def test_the_scan_works_on_sqlite_as_embedded(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    upgrade("routing", routing.SERVICE.migrations, settings.database_url("routing"))
    runtime = ServiceRuntime(routing.SERVICE, settings)
    try:
        with runtime.work() as work:
            sync_catalogue(work.session, load_catalogue())
        order_id = add_order(runtime)
        assert scan(runtime, local(2026, 12, 17, 9, 0)) == ScanResult(1, 0, 0, 0)
        assert scan(runtime, local(2026, 12, 23, 9, 0)) == ScanResult(0, 1, 1, 1)
        assert scan(runtime, local(2026, 12, 23, 9, 0)) == ScanResult(0, 0, 0, 0)
        order = order_of(runtime, order_id)
        assert order.due_at == DUE
        assert (order.urges, order.supervisions) == (1, 1)
    finally:
        runtime.database.dispose()


@pytest.fixture
def client(runtime: ServiceRuntime) -> TestClient:
    return TestClient(build_app([runtime]))


SUPERVISOR = staff_headers("supervisor", staff_id="s-07", name="督查员")


def escalations_of(runtime: ServiceRuntime, order_id: uuid.UUID) -> list[Escalation]:
    with runtime.database.session() as session:
        found = session.scalars(select(Escalation).where(Escalation.work_order_id == order_id))
        return list(found)


@pytest.mark.parametrize(
    ("action", "event_type"), [("urge", "case.urged"), ("supervise", "case.supervised")]
)
def test_a_supervisor_urges_and_supervises_by_hand(
    runtime: ServiceRuntime, client: TestClient, action: str, event_type: str
) -> None:
    order_id = add_order(runtime)
    response = client.post(
        f"/api/v1/work-orders/{order_id}/{action}",
        json={"note": "群众反映强烈，请加快办理"},
        headers=SUPERVISOR,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action"] == action
    assert (body["staff_id"], body["staff_name"]) == ("s-07", "督查员")
    assert (body["urges"], body["supervisions"]) == ((1, 0) if action == "urge" else (0, 1))
    [payload] = outbox(runtime, event_type)
    assert payload["automatic"] is False
    assert payload["note"] == "群众反映强烈，请加快办理"
    assert payload["deadline"] == "2026-12-18"
    [record] = escalations_of(runtime, order_id)
    assert (record.action, record.staff_id, record.automatic) == (action, "s-07", False)
    # A hand's urge does not stand in for the scan's: that still comes when overdue.
    assert order_of(runtime, order_id).urged_at is None


@pytest.mark.parametrize("action", ["urge", "supervise"])
def test_only_a_supervisor_may_and_a_finished_order_cannot_be_escalated(
    runtime: ServiceRuntime, client: TestClient, action: str
) -> None:
    open_order = add_order(runtime)
    closed_order = add_order(runtime, status="closed")
    note = {"note": "请尽快办理"}

    for roles in (("operator",), ("dispatcher", "handler")):
        refused = client.post(
            f"/api/v1/work-orders/{open_order}/{action}", json=note, headers=staff_headers(*roles)
        )
        assert refused.status_code == 403
        assert "supervisor" in refused.json()["detail"]
    assert client.post(f"/api/v1/work-orders/{open_order}/{action}", json=note).status_code == 401

    closed = client.post(
        f"/api/v1/work-orders/{closed_order}/{action}", json=note, headers=SUPERVISOR
    )
    assert closed.status_code == 409
    assert "closed" in closed.json()["detail"]

    unknown = client.post(
        f"/api/v1/work-orders/{uuid.uuid4()}/{action}", json=note, headers=SUPERVISOR
    )
    assert unknown.status_code == 404
    blank = client.post(
        f"/api/v1/work-orders/{open_order}/{action}", json={"note": ""}, headers=SUPERVISOR
    )
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["field"] == "note"

    for order_id in (open_order, closed_order):
        assert escalations_of(runtime, order_id) == []
        order = order_of(runtime, order_id)
        assert (order.urges, order.supervisions) == (0, 0)
    assert outbox(runtime, "case.urged") == outbox(runtime, "case.supervised") == []
