"""The file gateway: one JSON object per line, for the embedded mode and for tests."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from services.kernel.clock import utcnow
from services.notify.gateways import GatewayError, OutgoingSms


class FileGateway:
    """Appends each message once: a retry of a message already written is a no-op."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._written: set[str] | None = None

    def send(self, messages: Sequence[OutgoingSms]) -> None:
        sent_at = utcnow().isoformat()
        try:
            with self._lock:
                written = self._ids_written()
                fresh = {m.message_id: m for m in messages if m.message_id not in written}
                if not fresh:
                    return
                lines = "".join(_line(sms, sent_at) for sms in fresh.values())
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as outbox:
                    # One write and one fsync for the batch: the disk, not Python, sets the pace.
                    fcntl.flock(outbox, fcntl.LOCK_EX)
                    outbox.write(lines)
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


def _line(sms: OutgoingSms, sent_at: str) -> str:
    record = {
        "id": sms.message_id,
        "to": sms.to,
        "text": sms.text,
        "segments": sms.segments,
        "tracking_no": sms.tracking_no,
        "template": sms.template,
        "sent_at": sent_at,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"
