"""The unit of work as requests and handlers see it: one transaction, and events recorded in it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from services.kernel.bus import Destination
from services.kernel.config import Settings
from services.kernel.db import UnitOfWork
from services.kernel.events import Envelope, Event
from services.kernel.outbox import events_destination, outbox_rows, write_outbox

SendTask = Callable[[str, tuple[str, ...]], None]
# What opens a unit of work for a job outside any request or event (`ServiceRuntime.work`).
WorkOpener = Callable[[], AbstractContextManager["Work"]]


class Recorded:
    """The events and tasks one transaction records, written and sent around its commit.

    Every Work of a consumer batch shares one, so a batch of fifty events costs one outbox insert
    and one task per task name instead of fifty of each.
    """

    def __init__(
        self, uow: UnitOfWork, *, on_recorded: Callable[[], None], send_task: SendTask | None
    ) -> None:
        self._uow = uow
        self._on_recorded = on_recorded
        self._send_task = send_task
        self._rows: list[dict[str, Any]] = []
        self._tasks: dict[str, list[str]] = {}
        uow.before_commit(self._write)
        uow.after_commit(self._dispatch)

    def event(self, envelope: Envelope, destinations: Sequence[Destination]) -> None:
        self._rows.extend(outbox_rows(envelope, destinations))

    def task(self, name: str, ids: Sequence[str]) -> None:
        if self._send_task is None:
            raise RuntimeError(f"this service runs no Celery app; cannot queue {name}")
        self._tasks.setdefault(name, []).extend(ids)

    def _write(self) -> None:
        if self._rows:
            write_outbox(self._uow.session, self._rows)

    def _dispatch(self) -> None:
        if self._rows:
            self._on_recorded()
        for name, ids in self._tasks.items():
            assert self._send_task is not None  # task() refuses otherwise
            self._send_task(name, tuple(ids))


class Work:
    """Given to every HTTP handler and event handler by the runtime, which commits it."""

    def __init__(
        self,
        uow: UnitOfWork,
        recorded: Recorded,
        *,
        settings: Settings,
        producer: str,
        trace_id: str,
        envelope: Envelope | None = None,
    ) -> None:
        self._uow = uow
        self._recorded = recorded
        self.settings = settings
        self.producer = producer
        self.trace_id = trace_id
        self.envelope = envelope

    @property
    def session(self) -> Session:
        return self._uow.session

    def publish(
        self,
        event: Event,
        *,
        case_id: uuid.UUID | None = None,
        also_to: Sequence[Destination] = (),
    ) -> Envelope:
        """Record `event` in this transaction; it is published once the transaction commits."""
        envelope = event.envelope(producer=self.producer, case_id=case_id, trace_id=self.trace_id)
        self._recorded.event(envelope, [events_destination(envelope), *also_to])
        return envelope

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` in the transaction just before it commits: a batch's gathered rows are
        written there in one statement instead of one per event."""
        self._uow.before_commit(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._uow.after_commit(hook)

    def enqueue(self, task: str, *ids: str) -> None:
        """Queue a Celery task once the transaction has committed.

        Tasks take ids, not objects, and any number of them: every `enqueue` of one task in a
        transaction is sent as a single call carrying all the ids.
        """
        self._recorded.task(task, ids)
