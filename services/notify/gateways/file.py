"""The file gateway: one JSON object per line, for the embedded mode and for tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from services.kernel.clock import utcnow
from services.notify.gateways import Handover, Listener, OutgoingSms
from services.notify.gateways.jsonl import JsonLinesOutbox


class FileGateway:
    """Appends each message once: a retry of a message already written is a no-op."""

    # A file tells nobody whether the message arrived.
    sends_receipts = False
    dedupes = True  # by the id on each line

    def __init__(self, path: Path) -> None:
        self.path = path
        self._outbox = JsonLinesOutbox(path)

    def send(self, messages: Sequence[OutgoingSms]) -> Handover:
        sent_at = utcnow().isoformat()
        self._outbox.append({sms.message_id: _line(sms, sent_at) for sms in messages})
        return Handover()

    def start(self, listener: Listener) -> None:
        """Nothing arrives through a file."""

    def close(self) -> None:
        """Nothing to let go of."""


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
