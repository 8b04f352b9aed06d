"""An email as intake reads it, whatever state it arrived in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Set on every acknowledgement Minqing sends (with `Auto-Submitted: auto-replied`), so that a
# mailbox forwarding it back, or a robot answering it, never makes a case of it.
ACKNOWLEDGEMENT_HEADER = "X-Minqing-Acknowledgement"


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    """What could be read of one message; `defects` says what could not."""

    message_id: str | None  # without the angle brackets
    in_reply_to: tuple[str, ...]  # Message-IDs, without angle brackets
    references: tuple[str, ...]
    sender_name: str | None
    sender_address: str | None  # the From address, lower-cased
    reply_to: str | None
    subject: str
    sent_at: datetime | None
    text: str  # the body as plain text (HTML turned into text)
    attachments: tuple[ParsedAttachment, ...]
    # Why no case must be made of it ("auto-replied", "bounce", "delivery-report", "loop", ...),
    # or None for mail a person wrote.
    automated: str | None
    defects: tuple[str, ...]
