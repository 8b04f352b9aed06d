"""The message bus: exchanges, queues and a thread-confined publisher, over kombu."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
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
# AMQP's default exchange routes a message to the queue its routing key names, and to no other.
QUEUE_EXCHANGE = ""
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


@dataclass(frozen=True)
class QueueStatus:
    """A queue as the broker reports it. The in-memory broker always reports no consumers."""

    ready: int
    consumers: int


def queue_destination(queue_name: str) -> Destination:
    """Straight to one queue, past every binding: for a single consumer catching up alone."""
    return Destination(QUEUE_EXCHANGE, queue_name)


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """Whether a topic binding (`*` one word, `#` any words) takes `routing_key`."""
    return _words_match(binding_key.split("."), routing_key.split("."))


def _words_match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_words_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _words_match(rest, words[1:])


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
            # No per-publish confirm here: Publisher confirms a whole batch at once.
            return Connection(self.url, heartbeat=30)
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


class QueueProbe:
    """Reads queues' statuses on one connection, kept between reads; confined to one thread."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._connection: Connection | None = None

    def statuses(self, names: Iterable[str]) -> dict[str, QueueStatus]:
        """Messages ready and consumers attached, for each queue of `names` that exists."""
        if self._connection is None or not self._connection.connected:
            self.close()
            self._connection = self._bus.connect()
            self._connection.ensure_connection(max_retries=1, timeout=5)
        statuses: dict[str, QueueStatus] = {}
        channel = self._connection.channel()
        try:
            for name in names:
                try:
                    _, ready, consumers = channel.queue_declare(queue=name, passive=True)
                except self._connection.channel_errors:
                    # py-amqp reopens the channel the broker closed over the missing queue.
                    continue
                statuses[name] = QueueStatus(int(ready), int(consumers))
        finally:
            channel.close()
        return statuses

    def close(self) -> None:
        _release(self._connection)
        self._connection = None


def _release(connection: Connection | None) -> None:
    """Let go of a connection that may already be broken; its failure is no news."""
    if connection is not None:
        try:
            connection.release()
        except Exception:
            log.debug("closing a broken broker connection", exc_info=True)


@dataclass(frozen=True)
class Outgoing:
    """One message for `Publisher.publish_all`."""

    destination: Destination
    body: bytes
    message_id: str
    headers: Mapping[str, Any] | None = None


def _exchange(name: str) -> Exchange:
    # The default exchange is never declared: the broker has it from the start.
    return Exchange(QUEUE_EXCHANGE) if name == QUEUE_EXCHANGE else _EXCHANGES[name]


class PublishNotConfirmed(Exception):
    """The broker refused a message (nack) or did not confirm it in time."""


class _Confirms:
    """Publisher confirms for a whole batch: publish everything, then wait once for the acks.

    Waiting for each message's confirm costs a broker round trip (and, for a quorum queue, a
    replicated disk write) per message; a batch pays it once.
    """

    def __init__(self, channel: Any) -> None:
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._last_tag = 0
        self._outstanding: set[int] = set()
        self._nacked = 0

    def published(self) -> None:
        # In confirm mode the broker numbers the channel's publishes 1, 2, 3, ...
        self._last_tag += 1
        self._outstanding.add(self._last_tag)

    def wait(self, connection: Connection, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._outstanding:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishNotConfirmed(f"{len(self._outstanding)} publishes not confirmed")
            connection.drain_events(timeout=remaining)
        if self._nacked:
            nacked, self._nacked = self._nacked, 0
            raise PublishNotConfirmed(f"the broker refused {nacked} messages")

    def _settle(self, tag: int, multiple: bool) -> int:
        settled = {t for t in self._outstanding if t <= tag} if multiple else {tag}
        self._outstanding -= settled
        return len(settled)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked += self._settle(tag, multiple)


class Publisher:
    """Persistent publishing with confirms; confined to the thread that created it."""

    ATTEMPTS = 3
    CONFIRM_TIMEOUT = 30.0

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _Confirms | None = None

    def publish(
        self,
        destination: Destination,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        self.publish_all([Outgoing(destination, body, message_id, headers)])

    def publish_all(self, messages: Sequence[Outgoing]) -> None:
        """Publish every message; returns once the broker has confirmed all of them.

        A broken connection or a refused message publishes the whole batch again on a new
        connection: consumers skip what they already have, so a repeat is harmless, a loss not.
        """
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                self._publish_confirmed(messages)
                return
            except Exception:
                self.close()
                if attempt == self.ATTEMPTS:
                    raise
                log.warning("publish failed; reconnecting", exc_info=True)
                time.sleep(0.2 * attempt)

    def _publish_confirmed(self, messages: Sequence[Outgoing]) -> None:
        producer = self._ensure_producer()
        for message in messages:
            producer.publish(
                message.body,
                exchange=_exchange(message.destination.exchange),
                routing_key=message.destination.routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=message.message_id,
                headers=dict(message.headers or {}),
            )
            if self._confirms is not None:
                self._confirms.published()
        if self._confirms is not None:
            assert self._connection is not None
            self._confirms.wait(self._connection, self.CONFIRM_TIMEOUT)

    def _ensure_producer(self) -> Producer:
        if self._producer is None or self._connection is None or not self._connection.connected:
            self.close()
            self._connection = self._bus.connect()
            self._connection.ensure_connection(max_retries=3)
            self._bus.declare(self._connection)
            channel = self._connection.channel()
            # The in-memory broker has no confirms: a publish there is done when it returns.
            self._confirms = _Confirms(channel) if self._bus.durable else None
            self._producer = Producer(channel)
        return self._producer

    def close(self) -> None:
        _release(self._connection)
        self._connection = None
        self._producer = None
        self._confirms = None
