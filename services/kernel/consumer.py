"""The consumer runtime: decode, handle in a unit of work with an inbox record, commit, ack."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from services.kernel.bus import DEAD_EXCHANGE, Bus, Destination, Publisher
from services.kernel.events import Envelope, Event, UnknownEvent, decode, routing_key
from services.kernel.events.registry import older_versions
from services.kernel.outbox import claim_processed
from services.kernel.telemetry import (
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    EVENTS_FAILED,
    HANDLER_DURATION,
)
from services.kernel.work import Work

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any, Work], None]
# Loads, in one query, the rows a batch's handlers will look up by primary key; returns them so
# the session's identity map (which holds rows weakly) keeps them while the handlers run.
Preload = Callable[[Session, Sequence[Any]], Sequence[object]]
WorkFactory = Callable[[Sequence[Envelope]], AbstractContextManager[list[Work]]]


class RetryLater(Exception):
    """The handler cannot act yet (an event it depends on has not arrived); try again soon."""


@dataclass(frozen=True)
class Subscription:
    """One handler, its own queue `<service>.<name>`, and the event types bound to it."""

    service: str
    name: str
    events: tuple[type[Event], ...]
    handle: Handler
    preload: Preload | None = None

    @property
    def queue_name(self) -> str:
        return f"{self.service}.{self.name}"

    @property
    def routing_keys(self) -> tuple[str, ...]:
        # Older versions too: they are upcast on decoding, and replay may still publish them.
        return tuple(
            routing_key(version.event_type, version.event_version)
            for e in self.events
            for version in (e, *older_versions(e))
        )


class Subscriptions:
    """A service's handlers, registered with `@subscriptions.subscribe(EventA, EventB)`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._items: list[Subscription] = []

    def subscribe(
        self, *events: type[Event], preload: Preload | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a handler for `events`.

        `preload(session, payloads)` runs once per batch before the handler: a handler that
        reads one row per event then finds it in the session instead of querying (and flushing)
        once per event.
        """

        def register(handler: Handler) -> Handler:
            self._items.append(
                Subscription(self.service, handler.__name__, events, handler, preload)
            )
            return handler

        return register

    def __iter__(self) -> Iterator[Subscription]:
        return iter(self._items)


def _is_transient(exc: BaseException) -> bool:
    """Infrastructure trouble (database away or busy): wait it out, never dead-letter for it."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


Decoded = tuple[Message, Envelope, Event]


class ConsumerWorker:
    """Consumes one handler's queue on its own thread and connection.

    Messages already waiting are handled in batches, one transaction for the batch: the commit,
    not the handler, is most of the cost of a small event. A batch that fails is handled again
    message by message, so one bad message never holds back the others.
    """

    PREFETCH = 200
    BATCH_SIZE = 100
    LINGER = 0.02

    def __init__(
        self,
        subscription: Subscription,
        bus: Bus,
        work: WorkFactory,
        *,
        max_attempts: int = 5,
        retry_base_delay: float = 0.2,
    ) -> None:
        self.subscription = subscription
        self._bus = bus
        self._work = work
        self._max_attempts = max_attempts
        self._retry_base_delay = retry_base_delay
        self._stopping = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"consumer-{subscription.queue_name}", daemon=True
        )
        self._dead_letters = Publisher(bus)
        self._received: list[Message] = []
        self._processing: list[Message] = []

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask to stop without waiting: a service asks all its consumers at once, then waits."""
        self._stopping.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in hand, then stop; unacked prefetched messages go back."""
        self.request_stop()
        self._thread.join(timeout)

    def _run(self) -> None:
        queue = self._bus.handler_queue(
            self.subscription.queue_name, self.subscription.routing_keys
        )
        while not self._stopping.is_set():
            try:
                with self._bus.connect() as connection:
                    self._bus.declare(connection, [queue])
                    self._consume(connection, queue)
            except Exception:
                log.exception("consumer lost its connection; reconnecting", extra=self._labels())
                self.ready.clear()
                self._stopping.wait(1.0)
        self._dead_letters.close()

    def _consume(self, connection: Connection, queue: Any) -> None:
        # Messages taken on a connection that has since died can no longer be acked.
        self._received.clear()
        channel = connection.channel()
        # The prefetch goes to the Consumer, which sets it before consuming: RabbitMQ applies a
        # per-consumer limit only to consumers started after it, so set later it limits nothing.
        with Consumer(
            channel,
            queues=[queue],
            on_message=self._receive,
            accept=None,
            prefetch_count=self.PREFETCH,
        ):
            self.ready.set()
            while not self._stopping.is_set():
                # Messages may already be here: the broker delivers while other calls wait.
                if not self._received:
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        if self._bus.durable:
                            connection.heartbeat_check()
                        continue
                self._gather(connection)
                self._processing = list(self._received)
                self._received.clear()
                self._process(self._processing)
                self._processing = []

    def _gather(self, connection: Connection) -> None:
        """Wait up to LINGER for more messages to join the batch, then take what has arrived.

        A transaction's fixed cost (begin, inbox claim, commit, ack) is most of a small event's
        cost; at a moderate pace a short wait turns many one-message batches into a few larger
        ones, for a delay far below what a citizen would notice.
        """
        deadline = time.monotonic() + self.LINGER
        while len(self._received) < self.BATCH_SIZE:
            try:
                connection.drain_events(timeout=max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                break

    @property
    def in_hand(self) -> int:
        """Messages taken off the queue and not yet acknowledged (a queue's depth omits them)."""
        return len(self._received) + len(self._processing)

    def _receive(self, message: Message) -> None:
        self._received.append(message)

    def _process(self, batch: list[Message]) -> None:
        decoded = [d for d in map(self._decode, batch) if d is not None]
        if len(decoded) > 1:
            try:
                self._handle_batch(decoded)
                return
            except Exception:
                log.info("batch failed; handling its messages one by one", extra=self._labels())
        for item in decoded:
            self._handle_with_retries(*item)

    def _decode(self, message: Message) -> Decoded | None:
        """The message's envelope and typed payload, or None once it is dead-lettered."""
        try:
            envelope = Envelope.from_bytes(message.body)
            payload = decode(envelope)
        except UnknownEvent as exc:
            self._dead_letter(message, "unknown-event", str(exc))
            return None
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            self._dead_letter(message, "undecodable", str(exc))
            return None
        if not isinstance(payload, self.subscription.events):
            self._dead_letter(message, "unexpected-event", envelope.routing_key)
            return None
        return message, envelope, payload

    def _handle_batch(self, batch: list[Decoded]) -> None:
        """Every message of the batch in one transaction, acknowledged once it has committed."""
        started = time.perf_counter()
        with self._work([envelope for _, envelope, _ in batch]) as works:
            duplicates = self._apply(works, [(envelope, payload) for _, envelope, payload in batch])
        share = (time.perf_counter() - started) / len(batch)
        for (_, envelope, _), duplicate in zip(batch, duplicates, strict=True):
            self._observe(envelope, duplicate, share)
        if self._bus.durable:
            # One ack for the batch: every earlier delivery on this channel is settled by now.
            # (Kombu's in-memory transport ignores `multiple`, so there each message is acked.)
            batch[-1][0].ack(multiple=True)
        else:
            for message, _, _ in batch:
                message.ack()

    def _handle_with_retries(self, message: Message, envelope: Envelope, payload: Event) -> None:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                duplicate = self._handle(envelope, payload)
            except Exception as exc:
                if _is_transient(exc):
                    log.warning("database unavailable; holding the message", extra=self._labels())
                    if self._stopping.wait(min(0.5 * 2 ** min(attempt, 4), 5.0)):
                        message.requeue()
                        return
                    continue
                attempt += 1
                EVENTS_FAILED.labels(*self._metric_labels(envelope)).inc()
                log.warning(
                    "handler failed",
                    exc_info=not isinstance(exc, RetryLater),
                    extra={**self._labels(), "event_id": str(envelope.id), "attempt": attempt},
                )
                if attempt >= self._max_attempts:
                    self._dead_letter(message, "handler-failed", f"{type(exc).__name__}: {exc}")
                    return
                self._stopping.wait(min(self._retry_base_delay * 2 ** (attempt - 1), 5.0))
                continue
            self._acknowledge(message, envelope, duplicate, time.perf_counter() - started)
            return

    def _handle(self, envelope: Envelope, payload: Event) -> bool:
        """Run the handler in a transaction of its own; True if it was a duplicate."""
        with self._work([envelope]) as works:
            [duplicate] = self._apply(works, [(envelope, payload)])
        return duplicate

    def _apply(self, works: list[Work], events: list[tuple[Envelope, Event]]) -> list[bool]:
        """Run the handler once per event id; True where the event had been handled before."""
        session = works[0].session
        first_time = claim_processed(
            session, self.subscription.queue_name, [envelope.id for envelope, _ in events]
        )
        preload = self.subscription.preload
        fresh_payloads = [payload for envelope, payload in events if envelope.id in first_time]
        # Held until the handlers are done: the session alone would let the rows go.
        _preloaded = preload(session, fresh_payloads) if preload and fresh_payloads else ()
        duplicates = []
        for work, (envelope, payload) in zip(works, events, strict=True):
            # An id twice in one batch (a replay racing a redelivery) is handled once.
            fresh = envelope.id in first_time
            first_time.discard(envelope.id)
            if fresh:
                self.subscription.handle(payload, work)
            duplicates.append(not fresh)
        return duplicates

    def _acknowledge(
        self, message: Message, envelope: Envelope, duplicate: bool, took: float
    ) -> None:
        self._observe(envelope, duplicate, took)
        message.ack()

    def _observe(self, envelope: Envelope, duplicate: bool, took: float) -> None:
        HANDLER_DURATION.labels(self.subscription.service, self.subscription.name).observe(took)
        counter = EVENTS_DUPLICATE if duplicate else EVENTS_CONSUMED
        counter.labels(*self._metric_labels(envelope)).inc()

    def _dead_letter(self, message: Message, reason: str, detail: str) -> None:
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-minqing-reason": reason,
                "x-minqing-detail": detail[:2000],
                "x-minqing-queue": self.subscription.queue_name,
            }
        )
        key = message.delivery_info.get("routing_key") or "unroutable"
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        self._dead_letters.publish(
            Destination(DEAD_EXCHANGE, key),
            body,
            message_id=str(message.properties.get("message_id") or ""),
            headers=headers,
        )
        message.ack()
        EVENTS_DEAD_LETTERED.labels(self.subscription.service, self.subscription.name, reason).inc()
        log.error("message dead-lettered", extra={**self._labels(), "reason": reason})

    def _labels(self) -> dict[str, str]:
        return {"service": self.subscription.service, "handler": self.subscription.name}

    def _metric_labels(self, envelope: Envelope) -> tuple[str, str, str]:
        return (self.subscription.service, self.subscription.name, envelope.routing_key)
