"""Values read from the database kept in memory for a few seconds.

A request path that looks the same rows up for every request (an API client's key, the
catalogue's categories) pays a database round trip each time; on a busy machine every round
trip is a wait for the scheduler as well. Rows that change a few times a year can be served
from memory, provided that a change takes effect within a stated delay.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class TtlCache(Generic[Key, Value]):
    """Read-through cache: each value is kept `ttl` seconds after it was loaded.

    At most `max_entries` values are kept, the least recently loaded going first, so keys an
    outsider makes up cannot grow it without bound. `keep` decides whether a loaded value is
    worth keeping at all: a key that was refused is looked up again next time, so that a newly
    issued key works at once.
    """

    def __init__(
        self,
        ttl: float,
        max_entries: int = 1024,
        keep: Callable[[Value], bool] = lambda value: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._keep = keep
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, Value]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, load: Callable[[], Value]) -> Value:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self._ttl:
                return entry[1]
        # Loaded outside the lock: two threads missing at once both load, which is harmless,
        # where one holding the lock across a query would make every other request wait.
        value = load()
        if self._keep(value):
            with self._lock:
                self._entries[key] = (now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
