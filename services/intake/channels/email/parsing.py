"""Reading an email into a ParsedEmail — PLACEHOLDER built on the stdlib `email` package.

This stand-in keeps the channel running end to end: it reads well-formed mail and the plainest
signs of robots' mail. The full parser (every Chinese charset and its aliases, raw 8-bit headers,
broken structure, HTML to text, loops and delivery reports, with its corpus of tricky mail)
replaces this module, with the same `parse_email` signature.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from services.intake.channels.email.message import (
    ACKNOWLEDGEMENT_HEADER,
    ParsedAttachment,
    ParsedEmail,
)

_ANGLE_IDS = re.compile(r"<([^<>\s]+)>")
_TAGS = re.compile(r"<[^>]*>")
_ROBOT_SENDERS = ("mailer-daemon@", "postmaster@")


def parse_email(raw: bytes) -> ParsedEmail:
    """What can be read of `raw`; never raises: what could not be read is named in `defects`."""
    try:
        return _parse(raw)
    except Exception as exc:
        return ParsedEmail(
            message_id=None,
            in_reply_to=(),
            references=(),
            sender_name=None,
            sender_address=None,
            reply_to=None,
            subject="",
            sent_at=None,
            text=raw.decode("utf-8", errors="replace"),
            attachments=(),
            automated=None,
            defects=(f"unparsable: {type(exc).__name__}",),
        )


def _parse(raw: bytes) -> ParsedEmail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender = getaddresses([str(message.get("From", ""))])
    name, address = sender[0] if sender else ("", "")
    reply_to = getaddresses([str(message.get("Reply-To", ""))])
    ids = _ANGLE_IDS.findall(str(message.get("Message-ID", "")))
    return ParsedEmail(
        message_id=ids[0] if ids else None,
        in_reply_to=tuple(_ANGLE_IDS.findall(str(message.get("In-Reply-To", "")))),
        references=tuple(_ANGLE_IDS.findall(str(message.get("References", "")))),
        sender_name=name or None,
        sender_address=address.lower() or None,
        reply_to=reply_to[0][1].lower() if reply_to and reply_to[0][1] else None,
        subject=str(message.get("Subject", "")).strip(),
        sent_at=_date(message),
        text=_text(message),
        attachments=tuple(_attachments(message)),
        automated=_automated(message, address.lower()),
        defects=tuple(type(d).__name__ for part in message.walk() for d in part.defects),
    )


def _date(message: Message) -> datetime | None:
    try:
        return parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = str(body.get_content())
    return _TAGS.sub("", content) if body.get_content_subtype() == "html" else content


def _attachments(message: EmailMessage) -> list[ParsedAttachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or not (
            part.get_filename() or part.get_content_disposition() == "attachment"
        ):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found.append(
                ParsedAttachment(part.get_filename() or "attachment", part.get_content_type(), data)
            )
    return found


def _automated(message: Message, sender: str) -> str | None:
    if message.get(ACKNOWLEDGEMENT_HEADER):
        return "loop"
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        return "auto-submitted"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-replied"
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    if message.get_content_type() == "multipart/report":
        return "delivery-report"
    if sender.startswith(_ROBOT_SENDERS):
        return "bounce"
    return None
