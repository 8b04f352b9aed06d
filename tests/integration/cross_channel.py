"""Helpers of the tip-off, duplicate and merge tests: one cluster per module, staff tokens, a tap
on the event exchange, a queue's messages, and every row of a service's database as text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from kombu import Connection, Exchange, Queue
from sqlalchemy import MetaData, create_engine, select, text

from services.kernel.auth import Role, Staff, mint_token
from services.kernel.bus import EVENTS_EXCHANGE
from tests.support import (
    TEST_SECRET,
    Cluster,
    postgres_databases,
    rabbitmq_vhost,
    read_sms,
    running_services,
    wait_until,
)


@dataclass(frozen=True)
class Stack:
    """Minqing processes on a module's own databases and vhost."""

    cluster: Cluster
    postgres_url: str
    amqp_url: str
    tmp: Path

    def url(self, service: str) -> str:
        return self.cluster.url(service)

    @property
    def sms_path(self) -> Path:
        return self.tmp / "sms-outbox.jsonl"

    def database_url(self, service: str) -> str:
        return self.postgres_url.format(service=service).replace(
            "postgresql://", "postgresql+psycopg://"
        )


@contextmanager
def stack(names: tuple[str, ...], tmp: Path) -> Iterator[Stack]:
    with (
        postgres_databases() as postgres_url,
        rabbitmq_vhost() as amqp_url,
        running_services(names, postgres_url, amqp_url, tmp) as cluster,
    ):
        yield Stack(cluster, postgres_url, amqp_url, tmp)


def staff_headers(*roles: Role, staff_id: str = "staff-1", name: str = "值班员") -> dict[str, str]:
    token = mint_token(Staff(staff_id, name, frozenset(roles)), TEST_SECRET)
    return {"Authorization": f"Bearer {token}"}


def submit(stack: Stack, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = httpx.post(f"{stack.url('intake')}/api/v1/cases", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def sms_to(stack: Stack, phone: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The first `count` SMS the gateway sent to `phone`, once there are that many."""

    def arrived() -> list[dict[str, Any]]:
        found = [m for m in read_sms(stack.sms_path) if m["to"] == phone]
        return found[:count] if len(found) >= count else []

    try:
        return list(wait_until(arrived, timeout))
    except AssertionError:
        raise AssertionError(
            f"fewer than {count} SMS to the number\n{stack.cluster.logs()}"
        ) from None


class EventTap:
    """A queue of the test's own bound to every event: what the bus carried, byte for byte."""

    def __init__(self, amqp_url: str) -> None:
        self._connection = Connection(amqp_url, heartbeat=0)
        self._queue = Queue(
            f"test.tap.{uuid.uuid4().hex[:8]}",
            exchange=Exchange(EVENTS_EXCHANGE, type="topic", durable=True),
            routing_key="#",
            durable=False,
            auto_delete=False,
        )
        self._bound = self._queue(self._connection.default_channel)
        self._bound.declare()
        self.bodies: list[bytes] = []

    def drain(self) -> list[bytes]:
        """Everything that arrived since the last drain, added to `bodies`."""
        while (message := self._bound.get(no_ack=True)) is not None:
            self.bodies.append(_bytes(message.body))
        return self.bodies

    def close(self) -> None:
        self._bound.delete()
        self._connection.release()


def queue_bodies(amqp_url: str, name: str) -> list[bytes]:
    """Every message waiting on an existing queue, taken off it."""
    with Connection(amqp_url, heartbeat=0) as connection:
        bound = Queue(name, no_declare=True)(connection.default_channel)
        bodies = []
        while (message := bound.get(no_ack=True)) is not None:
            bodies.append(_bytes(message.body))
        return bodies


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def database_text(url: str) -> str:
    """Every row of every table of the database, as one text to search."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        lines = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    lines.append(f"{table.name}: {tuple(row)!r}")
                    lines.append(" ".join(str(v) for v in row))
        return "\n".join(lines)
    finally:
        engine.dispose()


def rows(url: str, statement: str) -> list[tuple[Any, ...]]:
    """The rows `statement` returns, committed (it may change what it returns)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            return [tuple(r) for r in connection.execute(text(statement))]
    finally:
        engine.dispose()
