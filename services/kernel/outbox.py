"""Transactional outbox and inbox: events recorded with the state change, published after commit."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from services.kernel.bus import (
    EVENTS_EXCHANGE,
    Bus,
    Destination,
    Outgoing,
    Publisher,
    queue_destination,
    topic_matches,
)
from services.kernel.clock import utcnow
from services.kernel.db import Database, UtcDateTime, upsert_insert
from services.kernel.events import Envelope
from services.kernel.telemetry import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = logging.getLogger(__name__)

# Tables every service database has, beside its own.
kernel_metadata = MetaData()

outbox = Table(
    "outbox",
    kernel_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("event_id", Uuid, nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("exchange", String(100), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("case_id", Uuid, nullable=True),
    Column("body", Text, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("published_at", UtcDateTime, nullable=True),
    Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

processed_events = Table(
    "processed_events",
    kernel_metadata,
    Column("handler", String(100), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)


def outbox_rows(envelope: Envelope, destinations: Sequence[Destination]) -> list[dict[str, Any]]:
    """The outbox rows that publish `envelope` to each destination."""
    body = envelope.model_dump_json()
    return [
        {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "exchange": d.exchange,
            "routing_key": d.routing_key,
            "case_id": envelope.case_id,
            "body": body,
            "occurred_at": envelope.occurred_at,
        }
        for d in destinations
    ]


_INSERT_OUTBOX = insert(outbox)


def write_outbox(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record rows for publishing, in the caller's transaction, in one statement."""
    # A single row skips the executemany machinery, which costs more than the row itself.
    session.execute(_INSERT_OUTBOX, rows[0] if len(rows) == 1 else list(rows))


def events_destination(envelope: Envelope) -> Destination:
    return Destination(EVENTS_EXCHANGE, envelope.routing_key)


def claim_processed(
    session: Session, handler: str, event_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Mark events processed by `handler`; returns those that were not already (not redelivered)."""
    now = utcnow()
    # One statement of one row's shape, given every row: SQLAlchemy sends them as multi-row
    # VALUES and compiles the statement once, where `.values([...])` compiled anew per batch size.
    claimed = session.scalars(
        _claim_statement(upsert_insert(session.get_bind())),
        [{"handler": handler, "event_id": i, "processed_at": now} for i in event_ids],
    )
    return set(claimed)


@functools.cache
def _claim_statement(insert: Callable[..., Any]) -> Any:
    """Built once per dialect (`insert` is the dialect's own)."""
    return insert(processed_events).on_conflict_do_nothing().returning(processed_events.c.event_id)


# The relay's claim on a batch of unsent events, built once: it runs after every commit.
_CLAIM_UNSENT = (
    update(outbox)
    .where(
        outbox.c.id.in_(
            select(outbox.c.id)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(bindparam("batch_size"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(published_at=bindparam("published_at"))
    .returning(outbox.c.id, outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key)
    .returning(outbox.c.body, outbox.c.event_type)
)


class OutboxRelay:
    """Publishes recorded events: kicked after each commit, and sweeping on a timer."""

    LINGER = 0.02

    def __init__(
        self,
        service: str,
        database: Database,
        bus: Bus,
        *,
        sweep_interval: float = 1.0,
        retention: timedelta = timedelta(days=7),
        batch_size: int = 200,
    ) -> None:
        self.service = service
        self.database = database
        self._bus = bus
        self._sweep_interval = sweep_interval
        self._retention = retention
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # Kicks asked for and kicks a completed pass has covered: idle when they are equal.
        self._kicks_lock = threading.Lock()
        self._kicks = 0
        self._kicks_covered = 0
        self._thread = threading.Thread(target=self._run, name=f"{service}-outbox", daemon=True)
        self._last_purge: datetime | None = None
        self._last_housekeeping = 0.0

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        """Ask for a publishing pass now (called after a commit that recorded events)."""
        with self._kicks_lock:
            self._kicks += 1
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Publish what is left, then stop."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        publisher = Publisher(self._bus)
        try:
            while not self._stopping.is_set():
                if self._wake.wait(self._sweep_interval):
                    # Commits close together share one pass, as consumers share a batch.
                    self._stopping.wait(self.LINGER)
                self._wake.clear()
                self._publishing_pass(publisher)
            # What the last commits before the stop recorded still goes out.
            self._publishing_pass(publisher)
        finally:
            publisher.close()

    def _publishing_pass(self, publisher: Publisher) -> None:
        with self._kicks_lock:
            covering = self._kicks
        try:
            while self.publish_pending(publisher) == self._batch_size:
                pass
            with self._kicks_lock:
                self._kicks_covered = covering
            # Gauges and purging are housekeeping: once per sweep interval, not per commit.
            now = time.monotonic()
            if now - self._last_housekeeping >= self._sweep_interval:
                self._last_housekeeping = now
                self._observe_backlog()
                self._purge_if_due()
        except Exception:
            log.exception("outbox pass failed; will retry", extra={"service": self.service})
            publisher.close()
            self._stopping.wait(1.0)

    def publish_pending(self, publisher: Publisher) -> int:
        """Publish one batch of unsent events in id order; returns how many.

        The batch is marked sent and published in one transaction that commits only once the
        broker has confirmed it: a failed publish rolls the marks back.
        """
        with self.database.unit_of_work() as uow:
            rows = sorted(
                uow.session.execute(
                    _CLAIM_UNSENT, {"published_at": utcnow(), "batch_size": self._batch_size}
                ).all(),
                key=lambda row: row.id,
            )
            publisher.publish_all(
                [
                    Outgoing(
                        Destination(row.exchange, row.routing_key),
                        row.body.encode(),
                        str(row.event_id),
                    )
                    for row in rows
                ]
            )
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row.event_type).inc()
        return len(rows)

    def _observe_backlog(self) -> None:
        with self.database.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(outbox.c.occurred_at)).where(
                    outbox.c.published_at.is_(None)
                )
            ).one()
        OUTBOX_BACKLOG.labels(self.service).set(count)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        OUTBOX_OLDEST_AGE.labels(self.service).set(max(age, 0.0))

    def _purge_if_due(self) -> None:
        now = utcnow()
        if self._last_purge is not None and now - self._last_purge < timedelta(hours=1):
            return
        self._last_purge = now
        with self.database.unit_of_work() as uow:
            uow.session.execute(
                delete(outbox).where(
                    outbox.c.published_at.is_not(None),
                    outbox.c.published_at < now - self._retention,
                )
            )

    def is_idle(self) -> bool:
        """True when every commit that recorded events has been followed by a finished pass."""
        with self._kicks_lock:
            return self._kicks_covered == self._kicks


def replay(service: str, database: Database, bus: Bus, since: datetime) -> int:
    """Publish again every retained event recorded since `since`; consumers skip duplicates."""
    publisher = Publisher(bus)
    count = 0
    try:
        with database.session() as session:
            rows = session.execute(
                select(outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key, outbox.c.body)
                .add_columns(outbox.c.event_type)
                .where(outbox.c.occurred_at >= since)
                .order_by(outbox.c.id)
            )
            for chunk in rows.partitions(500):
                publisher.publish_all(
                    [
                        Outgoing(
                            Destination(row.exchange, row.routing_key),
                            row.body.encode(),
                            str(row.event_id),
                            {"x-minqing-replay": "1"},
                        )
                        for row in chunk
                    ]
                )
                for row in chunk:
                    EVENTS_PUBLISHED.labels(service, row.event_type).inc()
                count += len(chunk)
    finally:
        publisher.close()
    return count


def replay_to_queues(
    service: str, database: Database, bus: Bus, queues: Mapping[str, Sequence[str]]
) -> int:
    """Publish every retained event of `service` again, but only to the handler queues in
    `queues` (name: binding keys) that would have taken it; returns how many events went.

    Published straight to each queue, so no other handler bound to the same keys sees them.
    """
    publisher = Publisher(bus)
    count = 0
    try:
        with database.session() as session:
            rows = session.execute(
                select(outbox.c.event_id, outbox.c.routing_key, outbox.c.body)
                .add_columns(outbox.c.event_type)
                # Department copies of work orders are not events any handler queue is bound to.
                .where(outbox.c.exchange == EVENTS_EXCHANGE)
                .order_by(outbox.c.id)
            )
            for chunk in rows.partitions(500):
                messages = []
                for row in chunk:
                    targets = [
                        queue
                        for queue, keys in queues.items()
                        if any(topic_matches(key, row.routing_key) for key in keys)
                    ]
                    messages += [
                        Outgoing(
                            queue_destination(queue),
                            row.body.encode(),
                            str(row.event_id),
                            {"x-minqing-replay": "1"},
                        )
                        for queue in targets
                    ]
                    if targets:
                        EVENTS_PUBLISHED.labels(service, row.event_type).inc()
                        count += 1
                if messages:
                    publisher.publish_all(messages)
    finally:
        publisher.close()
    return count
