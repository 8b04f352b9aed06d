"""A file of JSON lines that each message is appended to once: the file gateways' shared part."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from services.notify.gateways import GatewayError


class JsonLinesOutbox:
    """Appends each message's line once: a retry of a message already written is a no-op."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._written: set[str] | None = None

    def append(self, lines: Mapping[str, str]) -> None:
        """Write the lines (one JSON object each, by message id) not written before."""
        try:
            with self._lock:
                written = self._ids_written()
                fresh = {i: line for i, line in lines.items() if i not in written}
                if not fresh:
                    return
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as outbox:
                    # One write and one fsync for the batch: the disk, not Python, sets the pace.
                    fcntl.flock(outbox, fcntl.LOCK_EX)
                    outbox.write("".join(fresh.values()))
                    outbox.flush()
                    os.fsync(outbox.fileno())
                written.update(fresh)
        except OSError as exc:
            raise GatewayError(f"cannot write {self.path}: {exc.strerror}") from exc

    def _ids_written(self) -> set[str]:
        if self._written is None:
            self._written = set()
            if self.path.exists():
                with self.path.open(encoding="utf-8") as outbox:
                    for line in outbox:
                        try:
                            self._written.add(json.loads(line)["id"])
                        except (ValueError, KeyError):
                            continue
        return self._written
