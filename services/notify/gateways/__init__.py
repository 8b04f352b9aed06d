"""SMS gateways behind one interface, chosen by the `MINQING_SMS_GATEWAY` URL.

`file:///path/outbox.jsonl` writes one JSON object per message (the embedded default, no
receipts); `smpp://system_id:password@host:2775` speaks SMPP 3.4 to an operator's SMSC;
`https://…` and `http://…` post signed JSON to an SMS provider's API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol
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


ReceiptStatus = Literal["delivered", "failed", "expired"]


@dataclass(frozen=True)
class DeliveryReceipt:
    """What a gateway reports of one part it sent, by the reference it gave that part."""

    gateway_ref: str
    status: ReceiptStatus
    reason: str | None
    received_at: datetime


@dataclass(frozen=True)
class InboundSms:
    """A citizen's SMS to our number (MO), as a gateway hands it over."""

    sender: str
    text: str
    received_at: datetime
    # The gateway's own id of the SMS, when it gives one: the same SMS twice is taken once.
    gateway_ref: str | None


class GatewayError(Exception):
    """The gateway did not take the message; sending is retried."""


@dataclass(frozen=True)
class Handover:
    """What a gateway did with a batch, by notify's message id."""

    # The references of the parts it took, which its receipts will name (none: no receipts).
    refs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The messages it refused for good (a bad number, say), with its reason: not retried.
    refused: Mapping[str, str] = field(default_factory=dict)


class Refused(Exception):
    """The gateway refused one message for good; its reason is the exception's text."""


class Listener(Protocol):
    """Where a gateway hands what arrives from the network: receipts and citizens' replies."""

    def receipts(self, batch: Sequence[DeliveryReceipt]) -> Sequence[DeliveryReceipt]:
        """Take the receipts in one transaction (none of them if it raises); those not taken.

        A receipt naming a part whose sending has not committed yet is not taken but
        returned, to be handed over again a moment later.
        """
        ...

    def inbound(self, sms: InboundSms) -> None: ...


class Gateway(Protocol):
    # Whether delivery receipts follow; if so, a message without one in time has expired.
    sends_receipts: bool
    # Whether the far end tells a repeat by the message id. One that cannot (SMPP) has each
    # handover stamped in the database first, so a crash mid-send never leads to a second copy.
    dedupes: bool

    def send(self, messages: Sequence[OutgoingSms]) -> Handover:
        """Hand the messages over, all or, on GatewayError, some of them.

        Must be idempotent on `message_id`: a retry sends the same batch again, and what went
        out the first time must not go out twice (as far as the gateway can tell).
        """

    def start(self, listener: Listener) -> None:
        """Hand `listener` the receipts and replies that arrive by the gateway's own link."""

    def close(self) -> None:
        """Let go of connections; called once when the service stops."""


def gateway_from_url(url: str, *, secret: str = "") -> Gateway:
    """The gateway `url` names; `secret` signs the HTTP gateway's requests."""
    from services.notify.gateways.file import FileGateway
    from services.notify.gateways.http import HttpGateway
    from services.notify.gateways.smpp import SmppGateway

    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileGateway(Path(unquote(parts.path)))
    if parts.scheme == "smpp" and parts.hostname:
        return SmppGateway.from_url(parts)
    if parts.scheme in ("http", "https") and parts.hostname:
        if not secret:
            raise ConfigError(
                "MINQING_SMS_GATEWAY_SECRET: required with an HTTP SMS gateway, to sign requests "
                "and check the provider's callbacks"
            )
        return HttpGateway(url, secret)
    raise ConfigError(
        "MINQING_SMS_GATEWAY: expected file:///path/outbox.jsonl, "
        "smpp://system_id:password@host:port or https://provider/api"
    )
