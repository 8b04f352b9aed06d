"""The unit of work as requests and handlers see it: one transaction, and events recorded in it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from services.kernel.bus import Destination
from services.kernel.config import Settings
from services.kernel.db import UnitOfWork
from services.kernel.events import Envelope, Event
from services.kernel.outbox import events_destination, record


class Work:
    """Given to every HTTP handler and event handler by the runtime, which commits it."""

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        settings: Settings,
        producer: str,
        trace_id: str,
        on_recorded: Callable[[], None],
        send_task: Callable[[str, tuple[str, ...]], None] | None = None,
        envelope: Envelope | None = None,
    ) -> None:
        self._uow = uow
        self.settings = settings
        self.producer = producer
        self.trace_id = trace_id
        self.envelope = envelope
        self._on_recorded = on_recorded
        self._send_task = send_task
        self._recorded = False

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
        record(self.session, envelope, [events_destination(envelope), *also_to])
        if not self._recorded:
            self._recorded = True
            self._uow.after_commit(self._on_recorded)
        return envelope

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._uow.after_commit(hook)

    def enqueue(self, task: str, *args: str) -> None:
        """Queue a Celery task once the transaction has committed (tasks take ids, not objects)."""
        send_task = self._send_task
        if send_task is None:
            raise RuntimeError(f"{self.producer} runs no Celery app; cannot queue {task}")
        self._uow.after_commit(lambda: send_task(task, args))
