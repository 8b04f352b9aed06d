"""Tracking numbers on PostgreSQL: unique across threads and processes, few gaps."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import create_engine

from services.intake.tracking import TrackingNumbers
from services.kernel.config import Settings


def test_two_processes_with_many_threads_never_hand_out_a_number_twice(
    settings: Settings,
) -> None:
    # Two allocators on two engines stand for two intake processes on one database.
    engines = [create_engine(settings.database_url("intake")) for _ in range(2)]
    allocators = [TrackingNumbers(e) for e in engines]
    day = date(2026, 11, 26)
    taken: list[int] = []
    lock = threading.Lock()

    def submit(allocator: TrackingNumbers) -> None:
        for _ in range(100):
            number = allocator.take(day)
            with lock:
                taken.append(number)

    threads = [threading.Thread(target=submit, args=(allocators[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()

    assert len(taken) == len(set(taken)) == 800
    # Only the two allocators' last blocks may hold numbers nobody took.
    assert max(taken) <= 800 + 2 * 64


def test_a_new_day_starts_again_at_one(settings: Settings) -> None:
    engine = create_engine(settings.database_url("intake"))
    allocator = TrackingNumbers(engine)
    assert [allocator.take(date(2026, 11, 26)) for _ in range(3)] == [1, 2, 3]
    assert allocator.take(date(2026, 11, 27)) == 1
    engine.dispose()
