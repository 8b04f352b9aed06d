"""The read-through cache that spares request paths a lookup per request."""

from __future__ import annotations

from services.kernel.caching import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_loaded_once_until_it_is_older_than_the_ttl() -> None:
    clock, loads = Clock(), []
    cache: TtlCache[str, int] = TtlCache(5.0, clock=clock)

    def load() -> int:
        loads.append(clock.now)
        return len(loads)

    assert cache.get("k", load) == 1
    clock.now += 4.9
    assert cache.get("k", load) == 1
    clock.now += 0.1
    assert cache.get("k", load) == 2
    assert loads == [100.0, 105.0]


def test_values_not_kept_are_looked_up_every_time() -> None:
    cache: TtlCache[str, int | None] = TtlCache(60.0, keep=lambda v: v is not None)
    answers = iter([None, 7, 8])
    assert cache.get("new key", lambda: next(answers)) is None
    # Issued meanwhile: the refusal was not remembered, so the key works at once.
    assert cache.get("new key", lambda: next(answers)) == 7
    assert cache.get("new key", lambda: next(answers)) == 7


def test_the_oldest_entries_go_first_beyond_the_limit() -> None:
    cache: TtlCache[int, int] = TtlCache(60.0, max_entries=2)
    for key in (1, 2, 3):
        cache.get(key, lambda key=key: key * 10)  # type: ignore[misc]
    assert cache.get(1, lambda: -1) == -1
    assert cache.get(3, lambda: -1) == 30


def test_clear_forgets_everything() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0)
    cache.get("k", lambda: 1)
    cache.clear()
    assert cache.get("k", lambda: 2) == 2
