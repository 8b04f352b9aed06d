"""SMS gateways behind one interface, chosen by the `MINQING_SMS_GATEWAY` URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from services.kernel.config import ConfigError


@dataclass(frozen=True)
class OutgoingSms:
    message_id: str
    to: str
    text: str
    segments: int
    tracking_no: str | None
    template: str


@dataclass(frozen=True)
class InboundSms:
    """A citizen's SMS to us (MO), as a gateway received it."""

    sender: str
    text: str
    received_at: datetime
    # The gateway's own id of the SMS, when it gives one: the same SMS twice is taken once.
    gateway_ref: str | None


class GatewayError(Exception):
    """The gateway did not take the message; sending is retried."""


class Gateway(Protocol):
    def send(self, messages: Sequence[OutgoingSms]) -> None:
        """Hand the messages over, all or, on GatewayError, some of them.

        Must be idempotent on `message_id`: a retry sends the same batch again, and what went
        out the first time must not go out twice.
        """


def gateway_from_url(url: str) -> Gateway:
    from services.notify.gateways.file import FileGateway

    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileGateway(Path(unquote(parts.path)))
    raise ConfigError(
        f"MINQING_SMS_GATEWAY: {parts.scheme}:// is not supported yet; use file:///path/outbox.jsonl"
    )
