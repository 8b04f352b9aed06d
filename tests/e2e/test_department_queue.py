"""A department's own system consumes its work orders from `dept.<code>` with nothing but kombu."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from kombu import Connection, Consumer, Exchange, Queue

from tests.support import Cluster, case_payload, running_services

pytestmark = pytest.mark.e2e

SCHOOL_DESCRIPTION = "学校 老师 学生 转学：孩子转学手续办了两个月还没办好，学校和老师互相推"
HOUSING_DESCRIPTION = "我们楼下的排水沟堵了半个月，一下雨就漫进一楼"
# What a department's system must declare if it declares rather than checks the queue.
QUORUM_ARGUMENTS = {
    "x-queue-type": "quorum",
    "x-delivery-limit": 10,
    "x-dead-letter-exchange": "minqing.dead",
}


@pytest.fixture
def services(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Intake and routing on this test's own vhost and databases (nothing else is needed)."""
    with running_services(("intake", "routing"), postgres_url, amqp_url, tmp_path) as cluster:
        yield cluster


def _submit(services: Cluster, payload: dict[str, Any]) -> str:
    response = httpx.post(f"{services.url('intake')}/api/v1/cases", json=payload, timeout=30)
    assert response.status_code == 201, f"{response.status_code} {response.text}\n{services.logs()}"
    return str(response.json()["tracking_no"])


def _department_queue(code: str, *, declare_with_arguments: bool) -> Queue:
    exchange = Exchange("minqing.departments", type="direct", durable=True)
    if declare_with_arguments:
        return Queue(
            f"dept.{code}",
            exchange=exchange,
            routing_key=code,
            durable=True,
            queue_arguments=dict(QUORUM_ARGUMENTS),
        )
    # Declared by routing already: only check that it is there.
    return Queue(f"dept.{code}", no_declare=True)


def _ready_count(connection: Connection, name: str) -> int:
    channel = connection.channel()
    try:
        _, count, _ = channel.queue_declare(queue=name, passive=True)
    finally:
        channel.close()
    return int(count)


def _consume(
    connection: Connection,
    queue: Queue,
    *,
    until: set[str],
    timeout: float,
    settle: float = 1.5,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Everything `queue` delivers (acked), until `until` tracking numbers are seen and then
    `settle` seconds pass with nothing more, or `timeout`. Returns (envelope, properties)."""
    received: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def on_message(message: Any) -> None:
        received.append((json.loads(message.body), dict(message.properties)))
        message.ack()

    channel = connection.channel()
    if queue.no_declare:
        # A passive declare: fails with 404 if routing did not create the queue.
        queue.bind(channel).queue_declare(passive=True)
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    with Consumer(channel, queues=[queue], on_message=on_message, accept=None) as consumer:
        consumer.qos(prefetch_count=10)
        while time.monotonic() < deadline:
            before = len(received)
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.25)
            seen = {envelope["data"]["tracking_no"] for envelope, _ in received}
            if not until <= seen:
                continue
            if len(received) != before or quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                break
    channel.close()
    return received


def _vhost(amqp_url: str) -> str:
    return unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"


def _queue_types(amqp_url: str) -> dict[str, tuple[str, str]]:
    """name -> (durable, type) for the vhost's queues, as RabbitMQ itself reports them."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", _vhost(amqp_url), "name", "durable", "type"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    rows = [line.split("\t") for line in listed.splitlines() if line.strip()]
    return {row[0]: (row[1], row[2]) for row in rows if len(row) >= 3 and row[0] != "name"}


def test_department_consumer_receives_its_work_orders_with_plain_kombu(
    services: Cluster, amqp_url: str
) -> None:
    marker = uuid.uuid4().hex[:8]
    school_description = f"{SCHOOL_DESCRIPTION}（{marker}）"
    housing_description = f"{HOUSING_DESCRIPTION}（{marker}）"
    school = _submit(
        services, case_payload(school_description, location={"address": "城关镇学府路3号"})
    )
    housing = _submit(services, case_payload(housing_description, category="城乡建设"))

    with Connection(amqp_url, heartbeat=0) as connection:
        connection.ensure_connection(max_retries=3)
        edu = _consume(
            connection,
            _department_queue("edu", declare_with_arguments=False),
            until={school},
            timeout=60,
        )
        housing_orders = _consume(
            connection,
            _department_queue("housing", declare_with_arguments=True),
            until={housing},
            timeout=60,
        )
        # Everything taken was acked: nothing is left waiting or comes back.
        left = {name: _ready_count(connection, f"dept.{name}") for name in ("edu", "housing")}

    edu_numbers = [envelope["data"]["tracking_no"] for envelope, _ in edu]
    housing_numbers = [envelope["data"]["tracking_no"] for envelope, _ in housing_orders]
    logs = services.logs()
    assert edu_numbers == [school], f"dept.edu got {edu_numbers}, expected [{school}]\n{logs}"
    assert housing_numbers == [housing], (
        f"dept.housing got {housing_numbers}, expected [{housing}]\n{logs}"
    )
    assert left == {"edu": 0, "housing": 0}, f"messages left behind: {left}\n{logs}"

    envelope, properties = edu[0]
    assert envelope["type"] == "case.assigned"
    assert envelope["version"] == 1
    assert envelope["producer"] == "routing"
    assert {"id", "occurred_at", "case_id", "trace_id"} <= envelope.keys()
    uuid.UUID(envelope["id"])
    data = envelope["data"]
    assert data["case_id"] == envelope["case_id"]
    assert data["department_code"] == "edu"
    assert data["department_name"] == "县教育局"
    assert data["description"] == school_description
    assert data["address"] == "城关镇学府路3号"
    assert data["kind"] == "complaint"
    assert data["matched_by"].startswith("keywords:"), data["matched_by"]
    assert {"work_order_id", "deadline", "category"} <= data.keys()
    # Persistent, JSON, and identifiable for the department's own de-duplication.
    assert properties.get("delivery_mode") == 2, properties
    assert properties.get("content_type") == "application/json", properties
    assert properties.get("message_id") == envelope["id"], properties

    housing_data = housing_orders[0][0]["data"]
    assert housing_orders[0][0]["type"] == "case.assigned"
    assert housing_data["department_code"] == "housing"
    assert housing_data["category"] == "城乡建设"
    assert housing_data["matched_by"] == "category:城乡建设"
    assert housing_data["description"] == housing_description

    queues = _queue_types(amqp_url)
    for name in ("dept.edu", "dept.housing"):
        assert queues.get(name) == ("true", "quorum"), f"{name}: {queues.get(name)}"
