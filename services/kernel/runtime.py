"""A service at run time: its database, outbox relay, consumers, Celery worker and periodic jobs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from celery import Celery
from fastapi import APIRouter
from prometheus_client.registry import Collector
from sqlalchemy import MetaData

from services.kernel.bus import Bus, QueueProbe
from services.kernel.config import Settings
from services.kernel.consumer import ConsumerWorker, Subscriptions
from services.kernel.db import Database, UnitOfWork
from services.kernel.events import Envelope
from services.kernel.events.envelope import new_trace_id
from services.kernel.outbox import OutboxRelay
from services.kernel.tasks import CeleryBeat, CeleryWorker, create_celery
from services.kernel.telemetry import CONSUMER_LAG, QUEUE_CONSUMERS, register_collector
from services.kernel.work import Recorded, Work

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"intake": 8001, "routing": 8002, "notify": 8003, "reporting": 8004}
# As often as Prometheus scrapes: one passive declare per queue, on one connection.
QUEUE_GAUGES_INTERVAL = 15.0


@dataclass(frozen=True)
class ServiceSpec:
    """Everything the runtime needs to know about a service; each service exports one."""

    name: str
    metadata: MetaData
    migrations: Path
    subscriptions: Subscriptions
    routers: Sequence[APIRouter] = ()
    # Service-specific start-up: declare queues, register Celery tasks, add periodic jobs.
    setup: Callable[[ServiceRuntime], None] | None = None
    uses_celery: bool = False
    # Custom Prometheus collectors for /metrics, made in every process serving the service's port.
    collectors: Sequence[Callable[[ServiceRuntime], Collector]] = ()


@dataclass
class _Periodic:
    name: str
    interval: float
    job: Callable[[], None]
    due: float = 0.0


class QueueGauges:
    """Keeps the consumer-lag and consumer-count gauges of a service's queues current.

    Confined to the thread that refreshes it. A broker it cannot reach costs a log line, never
    the service: the gauges then disappear until it can read the queues again.
    """

    def __init__(self, service: str, bus: Bus, queues: Sequence[str]) -> None:
        self._service = service
        self._durable = bus.durable
        self._probe = QueueProbe(bus)
        self._queues = tuple(queues)
        self._failing = False

    def refresh(self) -> None:
        try:
            statuses = self._probe.statuses(self._queues)
        except Exception:
            if not self._failing:
                log.warning("cannot read the queues' depths", exc_info=True)
            self._failing = True
            self._probe.close()
            self._forget(self._queues)
            return
        self._failing = False
        self._forget([q for q in self._queues if q not in statuses])
        for queue, status in statuses.items():
            CONSUMER_LAG.labels(self._service, queue).set(status.ready)
            if self._durable:
                QUEUE_CONSUMERS.labels(self._service, queue).set(status.consumers)

    def _forget(self, queues: Sequence[str]) -> None:
        for queue in queues:
            for gauge in (CONSUMER_LAG, QUEUE_CONSUMERS):
                with suppress(KeyError):
                    gauge.remove(self._service, queue)

    def close(self) -> None:
        self._probe.close()


class ServiceRuntime:
    """Composition root of one service inside a process."""

    def __init__(self, spec: ServiceSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.database = Database(settings.database_url(spec.name), pool_size=settings.db_pool_size)
        self.bus = Bus(settings.broker_url)
        self.relay = OutboxRelay(
            spec.name,
            # Its own connections, so request threads never keep it waiting for one; and its
            # marks need not wait for the disk: one lost in a crash only publishes again.
            Database(
                settings.database_url(spec.name), pool_size=1, max_overflow=1, wait_for_disk=False
            ),
            self.bus,
            retention=timedelta(days=settings.outbox_retention_days),
        )
        self.consumers = [
            ConsumerWorker(s, self.bus, self._event_works) for s in spec.subscriptions
        ]
        self.celery: Celery | None = (
            create_celery(spec.name, settings.broker_url) if spec.uses_celery else None
        )
        self._celery_worker: CeleryWorker | None = None
        self.queue_gauges = QueueGauges(
            spec.name,
            self.bus,
            [s.queue_name for s in spec.subscriptions]
            + ([str(self.celery.conf.task_default_queue)] if self.celery is not None else []),
        )
        self._beat_schedule: dict[str, float] = {}
        self._celery_beat: CeleryBeat | None = None
        self._periodic: list[_Periodic] = []
        self._on_stop: list[Callable[[], None]] = []
        self._stopping = threading.Event()
        self._periodic_thread = threading.Thread(
            target=self._run_periodic, name=f"{spec.name}-periodic", daemon=True
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @contextmanager
    def work(self, trace_id: str | None = None) -> Iterator[Work]:
        """One unit of work on this service's database; commits when the block succeeds."""
        with self.database.unit_of_work() as uow:
            yield self._work_in(uow, self._recorded(uow), trace_id or new_trace_id(), None)

    @contextmanager
    def _event_works(self, envelopes: Sequence[Envelope]) -> Iterator[list[Work]]:
        """One unit of work shared by a batch of events, each handler seeing its own event."""
        with self.database.unit_of_work() as uow:
            recorded = self._recorded(uow)
            yield [self._work_in(uow, recorded, e.trace_id, e) for e in envelopes]

    def _recorded(self, uow: UnitOfWork) -> Recorded:
        return Recorded(
            uow,
            on_recorded=self.relay.kick,
            send_task=self._send_task if self.celery is not None else None,
        )

    def _work_in(
        self, uow: UnitOfWork, recorded: Recorded, trace_id: str, envelope: Envelope | None
    ) -> Work:
        return Work(
            uow,
            recorded,
            settings=self.settings,
            producer=self.spec.name,
            trace_id=trace_id,
            envelope=envelope,
        )

    def _send_task(self, task: str, args: tuple[str, ...]) -> None:
        assert self.celery is not None
        self.celery.send_task(task, args=args)

    def every(self, seconds: float, job: Callable[[], None], name: str) -> None:
        """Run `job` every `seconds` on the service's periodic thread, first at start-up."""
        self._periodic.append(_Periodic(name, seconds, job))

    def schedule(self, task: str, seconds: float) -> None:
        """Have Celery beat send the service's task `task` every `seconds`, first at start-up."""
        if self.celery is None:
            raise ValueError(f"{self.name} has no Celery app to schedule {task} on")
        self._beat_schedule[task] = seconds

    def on_stop(self, hook: Callable[[], None]) -> None:
        self._on_stop.append(hook)

    def start(self, *, http_only: bool = False) -> None:
        """Start the service's background work.

        `http_only` is for the extra processes of `serve --http-workers`: they answer requests
        and publish what those record through their own relay; the process that started them
        runs the setup, consumers, Celery worker and periodic jobs, once for the service.
        """
        for make_collector in self.spec.collectors:
            self.on_stop(register_collector(make_collector(self)))
        if http_only:
            self.relay.start()
            log.info("service started, HTTP only", extra={"service": self.name})
            return
        if self.spec.setup is not None:
            self.spec.setup(self)
        self.relay.start()
        for consumer in self.consumers:
            consumer.start()
        if self.celery is not None:
            self._celery_worker = CeleryWorker(self.celery)
            self._celery_worker.start()
            if self._beat_schedule:
                self._celery_beat = CeleryBeat(self.celery, self._beat_schedule)
                self._celery_beat.start()
        self.every(QUEUE_GAUGES_INTERVAL, self.queue_gauges.refresh, "queue gauges")
        self.on_stop(self.queue_gauges.close)
        self._periodic_thread.start()
        log.info("service started", extra={"service": self.name})

    def wait_ready(self, timeout: float = 30.0) -> bool:
        return all(consumer.ready.wait(timeout) for consumer in self.consumers)

    def stop_consuming(self) -> None:
        """Finish the messages in hand and stop taking new ones."""
        self._stopping.set()
        # Each notices within half a second; asked together, they stop in parallel.
        for consumer in self.consumers:
            consumer.request_stop()
        for consumer in self.consumers:
            consumer.stop()
        if self._celery_beat is not None:
            self._celery_beat.stop()
        if self._celery_worker is not None:
            self._celery_worker.stop()

    def stop(self) -> None:
        """Flush the outbox, then release the database."""
        self.relay.stop()
        self.relay.database.dispose()
        if self._periodic_thread.is_alive():
            self._periodic_thread.join(5)
        for hook in self._on_stop:
            hook()
        self.database.dispose()
        log.info("service stopped", extra={"service": self.name})

    def _run_periodic(self) -> None:
        while not self._stopping.is_set():
            now = time.monotonic()
            for periodic in self._periodic:
                if periodic.due <= now:
                    periodic.due = now + periodic.interval
                    try:
                        periodic.job()
                    except Exception:
                        log.exception("periodic job failed", extra={"job": periodic.name})
            self._stopping.wait(0.5)
