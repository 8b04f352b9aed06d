"""The message bus: exchanges, queues and a thread-confined publisher, over kombu."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding
from kombu.messaging import Producer

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = "minqing.events"
DEAD_EXCHANGE = "minqing.dead"
DEAD_QUEUE = "minqing.dead"
DEPARTMENTS_EXCHANGE = "minqing.departments"
# RabbitMQ's own guard against a message that kills its consumer before it can be dead-lettered.
DELIVERY_LIMIT = 10
_MEMORY_POLLING_INTERVAL = 0.01

_EXCHANGES = {
    EVENTS_EXCHANGE: Exchange(EVENTS_EXCHANGE, type="topic", durable=True),
    DEAD_EXCHANGE: Exchange(DEAD_EXCHANGE, type="topic", durable=True),
    DEPARTMENTS_EXCHANGE: Exchange(DEPARTMENTS_EXCHANGE, type="direct", durable=True),
}


@dataclass(frozen=True)
class Destination:
    """Where a recorded event goes: an exchange and a routing key."""

    exchange: str
    routing_key: str


def department_queue_name(code: str) -> str:
    return f"dept.{code}"


def department_destination(code: str) -> Destination:
    return Destination(DEPARTMENTS_EXCHANGE, code)


class Bus:
    """Knows the broker URL and the topology; hands out connections and queues."""

    def __init__(self, url: str) -> None:
        # kombu warns on a memory URL without a host; the host means nothing there.
        self.url = "memory://localhost/" if url.rstrip("/") == "memory:" else url

    @property
    def durable(self) -> bool:
        """False for the in-memory broker, whose queues die with the process."""
        return not self.url.startswith("memory://")

    def connect(self) -> Connection:
        if self.durable:
            return Connection(self.url, transport_options={"confirm_publish": True}, heartbeat=30)
        # Kombu's memory transport polls; its default interval would cap us at a few msg/s.
        return Connection(
            self.url, transport_options={"polling_interval": _MEMORY_POLLING_INTERVAL}
        )

    def _queue_arguments(self, dead_letter: bool = True) -> dict[str, Any]:
        if not self.durable:
            return {}
        arguments: dict[str, Any] = {"x-queue-type": "quorum"}
        if dead_letter:
            arguments["x-delivery-limit"] = DELIVERY_LIMIT
            arguments["x-dead-letter-exchange"] = DEAD_EXCHANGE
        return arguments

    def handler_queue(self, name: str, routing_keys: Iterable[str]) -> Queue:
        """A handler's own durable queue, bound to the event keys it handles."""
        bindings = [binding(_EXCHANGES[EVENTS_EXCHANGE], routing_key=k) for k in routing_keys]
        return Queue(name, bindings=bindings, durable=True, queue_arguments=self._queue_arguments())

    def department_queue(self, code: str) -> Queue:
        return Queue(
            department_queue_name(code),
            exchange=_EXCHANGES[DEPARTMENTS_EXCHANGE],
            routing_key=code,
            durable=True,
            queue_arguments=self._queue_arguments(),
        )

    def dead_letter_queue(self) -> Queue:
        return Queue(
            DEAD_QUEUE,
            exchange=_EXCHANGES[DEAD_EXCHANGE],
            routing_key="#",
            durable=True,
            queue_arguments=self._queue_arguments(dead_letter=False),
        )

    def declare(self, connection: Connection, queues: Iterable[Queue] = ()) -> None:
        """Declare the exchanges, the dead-letter queue and `queues` (idempotent)."""
        channel = connection.default_channel
        for exchange in _EXCHANGES.values():
            exchange(channel).declare()
        for queue in (self.dead_letter_queue(), *queues):
            queue(channel).declare()

    def queue_depth(self, connection: Connection, name: str) -> int:
        """Messages ready in a queue (0 if it does not exist yet)."""
        try:
            _, count, _ = connection.default_channel.queue_declare(queue=name, passive=True)
        except connection.channel_errors:
            return 0
        return int(count)

    def ping(self) -> bool:
        try:
            with self.connect() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception:
            return False
        return True


class Publisher:
    """Persistent publishing with confirms; confined to the thread that created it."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def publish(
        self,
        destination: Destination,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        producer = self._ensure_producer()
        producer.publish(
            body,
            exchange=_EXCHANGES[destination.exchange],
            routing_key=destination.routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=message_id,
            headers=dict(headers or {}),
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        )

    def _ensure_producer(self) -> Producer:
        if self._producer is None or self._connection is None or not self._connection.connected:
            self.close()
            self._connection = self._bus.connect()
            self._connection.ensure_connection(max_retries=3)
            self._bus.declare(self._connection)
            self._producer = Producer(self._connection.channel())
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("closing a broken broker connection", exc_info=True)
        self._connection = None
        self._producer = None
