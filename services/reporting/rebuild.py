"""Rebuilding reporting's projections from scratch, out of the events the producers retain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, text

from services.kernel.bus import Bus
from services.kernel.db import Database
from services.kernel.outbox import processed_events, replay_to_queues
from services.reporting.handlers import subscriptions
from services.reporting.models import CaseFact, CaseReturn, MessageFact

# What events alone build; anything else reporting keeps (bulletins it issued) stays.
PROJECTIONS: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (CaseFact, CaseReturn, MessageFact)
)


@dataclass(frozen=True)
class Rebuilt:
    by_producer: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_producer.values())

    def summary(self) -> str:
        parts = ", ".join(f"{name} {count}" for name, count in self.by_producer.items())
        return f"rebuilt reporting from {self.total} events ({parts})"


def handler_queues() -> dict[str, tuple[str, ...]]:
    """Reporting's handler queues and the event keys each is bound to."""
    return {s.queue_name: s.routing_keys for s in subscriptions}


def clear(database: Database) -> None:
    """Empty every projection and forget which events reporting handled, in one transaction.

    Both go together: a projection emptied while its inbox still listed an event would skip
    that event's replayed copy for good.
    """
    with database.unit_of_work() as uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            # A consumer's transaction in flight either commits before the clear (its event is
            # then in a producer's outbox, replayed below) or waits for it and counts afresh.
            # The inbox first: consumers claim it before they lock their rows, so no deadlock.
            tables = ", ".join([processed_events.name, *(t.name for t in PROJECTIONS)])
            session.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
        session.execute(
            delete(processed_events).where(processed_events.c.handler.in_(handler_queues()))
        )
        for table in PROJECTIONS:
            session.execute(delete(table))


def rebuild(database: Database, bus: Bus, producers: Mapping[str, Database]) -> Rebuilt:
    """Clear the projections, then have each producer's retained events sent to reporting's
    queues alone; the running consumers fill the projections again as they arrive."""
    clear(database)
    queues = handler_queues()
    return Rebuilt(
        {
            name: replay_to_queues(name, producer, bus, queues)
            for name, producer in producers.items()
        }
    )
