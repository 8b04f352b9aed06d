"""Tracking numbers: the day's sequence, reserved from the database a block at a time."""

from __future__ import annotations

import threading
import time
import weakref
from datetime import date

from sqlalchemy import Engine, Integer, cast

from services.intake.models import TrackingSequence
from services.kernel.db import upsert_insert

MAX_BLOCK = 64


def next_block_size(previous: int, lasted_seconds: float) -> int:
    """How many numbers to reserve next: more when the last block went fast, fewer when it sat.

    Under load one reservation serves many submissions; when it is quiet the numbers a restart
    leaves unused (a gap in the day's sequence, harmless) stay few.
    """
    if lasted_seconds < 1.0:
        return min(previous * 2, MAX_BLOCK)
    if lasted_seconds > 10.0:
        return max(previous // 2, 1)
    return previous


class TrackingNumbers:
    """Hands out one process's numbers; thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._day: date | None = None
        self._next = 1
        self._last = 0
        self._size = 1
        self._reserved_at = 0.0

    def take(self, day: date) -> int:
        with self._lock:
            if day != self._day:
                self._day, self._next, self._last, self._size = day, 1, 0, 1
            elif self._next > self._last:
                self._size = next_block_size(self._size, time.monotonic() - self._reserved_at)
            if self._next > self._last:
                self._last = _reserve(self._engine, day, self._size)
                self._next = self._last - self._size + 1
                self._reserved_at = time.monotonic()
            number = self._next
            self._next += 1
            return number


def _reserve(engine: Engine, day: date, size: int) -> int:
    """Reserve `size` numbers of `day` in a transaction of its own; returns the last of them.

    Committing at once keeps the day's row lock out of any case's transaction, so concurrent
    submissions never queue behind one another.
    """
    statement = (
        upsert_insert(engine)(TrackingSequence)
        .values(day=day, last=size)
        .on_conflict_do_update(
            index_elements=[TrackingSequence.day],
            set_={"last": cast(TrackingSequence.last + size, Integer)},
        )
        .returning(TrackingSequence.last)
    )
    with engine.begin() as connection:
        return int(connection.execute(statement).scalar_one())


_per_engine: weakref.WeakKeyDictionary[Engine, TrackingNumbers] = weakref.WeakKeyDictionary()
_per_engine_lock = threading.Lock()


def tracking_numbers(engine: Engine) -> TrackingNumbers:
    """The allocator of the database behind `engine` (one per database and process)."""
    with _per_engine_lock:
        found = _per_engine.get(engine)
        if found is None:
            found = _per_engine[engine] = TrackingNumbers(engine)
        return found
