"""A department's own system moves its work orders by sending JSON to `routing.department-updates`
with nothing but kombu: the same transitions, checks and audit as the workbench."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from sqlalchemy import select

from services.routing.models import WorkOrder, WorkOrderAudit
from tests.integration.staffing import Site, running_site, wait_for
from tests.support import case_payload

pytestmark = pytest.mark.e2e

QUEUE = "routing.department-updates"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("updates")) as site:
        yield site


def _school_order(site: Site) -> WorkOrder:
    payload = case_payload(f"学校 转学手续一直办不下来（{uuid.uuid4().hex[:8]}）")
    response = httpx.post(f"{site.url('intake')}/api/v1/cases", json=payload, timeout=30)
    assert response.status_code == 201, response.text
    tracking_no = response.json()["tracking_no"]

    def found() -> WorkOrder | None:
        with site.database("routing") as database, database.session() as session:
            order = session.scalars(
                select(WorkOrder).where(WorkOrder.tracking_no == tracking_no)
            ).first()
            if order is not None:
                session.expunge(order)
            return order

    order: WorkOrder = wait_for(found)
    return order


def _send(connection: Connection, message: dict[str, Any]) -> None:
    """As a department's system would: persistent JSON on the default exchange."""
    producer = Producer(connection.channel(), exchange=Exchange(""))
    producer.publish(
        json.dumps(message, ensure_ascii=False).encode(),
        routing_key=QUEUE,
        content_type="application/json",
        delivery_mode=2,
        message_id=message.get("message_id"),
    )


def _queue_exists(connection: Connection) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(queue=QUEUE, passive=True)
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            channel.close()
    return True


def _audit(site: Site, order_id: uuid.UUID) -> list[tuple[str, str, str, str]]:
    statement = (
        select(
            WorkOrderAudit.action,
            WorkOrderAudit.actor_id,
            WorkOrderAudit.actor_name,
            WorkOrderAudit.to_status,
        )
        .where(WorkOrderAudit.work_order_id == order_id)
        .order_by(WorkOrderAudit.id)
    )
    return [tuple(row) for row in site.rows("routing", statement)]  # type: ignore[misc]


def _dead_letters(connection: Connection, wanted: int, timeout: float = 30) -> list[Any]:
    """Messages routing refused from the inbound queue, with the reason headers."""
    received: list[Any] = []

    def on_message(message: Any) -> None:
        if (message.headers or {}).get("x-minqing-queue") == QUEUE:
            received.append(message)
        message.ack()

    channel = connection.channel()
    queue = Queue("minqing.dead", no_declare=True)
    deadline = time.monotonic() + timeout
    with Consumer(channel, queues=[queue], on_message=on_message, accept=None):
        while len(received) < wanted and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.5)
    return received


def test_a_department_system_moves_its_order_like_the_workbench(site: Site) -> None:
    order = _school_order(site)
    with Connection(site.amqp_url, heartbeat=0) as connection:
        connection.ensure_connection(max_retries=3)
        wait_for(lambda: _queue_exists(connection))
        sign_for = {
            "message_id": str(uuid.uuid4()),
            "department_code": "edu",
            "work_order_id": str(order.id),
            "action": "sign-for",
            "operator": "刘老师",
        }
        _send(connection, sign_for)
        _send(connection, sign_for)  # a repeat, as a retrying system would send it
        # Refused, changing nothing: another department's order, the wrong state, bad JSON.
        _send(connection, {**sign_for, "message_id": str(uuid.uuid4()), "department_code": "env"})
        _send(connection, {**sign_for, "message_id": str(uuid.uuid4())})
        _send(connection, {**sign_for, "message_id": str(uuid.uuid4()), "action": "close"})
        _send(
            connection,
            {
                "message_id": str(uuid.uuid4()),
                "department_code": "edu",
                "work_order_id": str(order.id),
                "action": "resolve",
                "reason": "已办结，学籍已转入",
            },
        )
        wait_for(lambda: len(_audit(site, order.id)) == 3)
        refused = _dead_letters(connection, 3)

    assert _audit(site, order.id) == [
        ("route", "routing", "routing", "dispatched"),
        ("sign_for", "system:edu", "edu system (刘老师)", "signed_for"),
        ("resolve", "system:edu", "edu system", "resolved"),
    ]
    reasons = sorted(m.headers["x-minqing-reason"] for m in refused)
    assert reasons == ["refused-404", "refused-409", "undecodable"], reasons
    wrong_state = next(m for m in refused if m.headers["x-minqing-reason"] == "refused-409")
    assert "signed_for" in wrong_state.headers["x-minqing-detail"]
