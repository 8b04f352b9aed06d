"""Email gateways behind one interface, chosen by the `MINQING_EMAIL_GATEWAY` URL.

`file:///path/email-outbox.jsonl` appends one JSON object per message (the embedded default);
`file:///path/dir` writes one `<id>.eml` per message; `smtp://host:port` hands them to a mail
server (`smtp+starttls://user:password@host:587` upgrades to TLS first and logs in, `smtps://`
speaks TLS from the start).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from services.kernel.clock import utcnow
from services.kernel.config import ConfigError
from services.notify.gateways import GatewayError
from services.notify.gateways.jsonl import JsonLinesOutbox

SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class OutgoingEmail:
    message_id: str  # notify's id for the message, which gateways dedupe on
    sender: str
    to: str
    subject: str
    text: str
    headers: Mapping[str, str]  # Message-ID, In-Reply-To, References, Auto-Submitted, ...
    tracking_no: str | None
    template: str


class EmailGateway(Protocol):
    def send(self, messages: Sequence[OutgoingEmail]) -> None:
        """Hand the messages over, all or, on GatewayError, some of them; idempotent on
        `message_id` as far as the gateway can tell (see the SMS Gateway)."""


def compose(email: OutgoingEmail) -> EmailMessage:
    """The message as it goes out: plain UTF-8 text with our headers."""
    message = EmailMessage(policy=SMTP)
    message["From"] = email.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text, charset="utf-8")
    return message


def email_gateway_from_url(url: str) -> EmailGateway:
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        return FileEmailGateway(path) if path.suffix == ".jsonl" else MaildropGateway(path)
    if parts.scheme in ("smtp", "smtps", "smtp+starttls") and parts.hostname:
        return SmtpGateway(
            host=parts.hostname,
            port=parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme],
            tls=parts.scheme == "smtps",
            starttls=parts.scheme == "smtp+starttls",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password or ""),
        )
    raise ConfigError(
        "MINQING_EMAIL_GATEWAY: expected file:///path/outbox.jsonl, file:///path/dir, "
        "smtp://host:port, smtp+starttls://user:password@host:587 or smtps://…"
    )


class FileEmailGateway:
    """One JSON object per line, the whole message included; a repeat is not written again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._outbox = JsonLinesOutbox(path)

    def send(self, messages: Sequence[OutgoingEmail]) -> None:
        self._outbox.append({email.message_id: _line(email) for email in messages})


def _line(email: OutgoingEmail) -> str:
    record = {
        "id": email.message_id,
        "from": email.sender,
        "to": email.to,
        "subject": email.subject,
        "headers": dict(email.headers),
        "text": email.text,
        "tracking_no": email.tracking_no,
        "template": email.template,
        "sent_at": utcnow().isoformat(),
        "raw": compose(email).as_string(),
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


class MaildropGateway:
    """One `<id>.eml` file per message in a folder, as a pickup directory would take them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, messages: Sequence[OutgoingEmail]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for email in messages:
                target = self.folder / f"{email.message_id}.eml"
                if target.exists():
                    continue
                partial = target.with_suffix(".tmp")
                partial.write_bytes(compose(email).as_bytes())
                partial.replace(target)
        except OSError as exc:
            raise GatewayError(f"cannot write to {self.folder}: {exc.strerror}") from exc


class SmtpGateway:
    """Hands messages to a mail server (smarthost) over one connection per batch.

    The server cannot tell a repeat, so this gateway remembers, for the life of the process,
    what it has handed over; a message sent just before a crash may go out twice, with the
    same Message-ID, which mail programs show once.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: bool,
        starttls: bool,
        user: str | None,
        password: str,
    ) -> None:
        self.host, self.port = host, port
        self._tls, self._starttls = tls, starttls
        self._user, self._password = user, password
        self._lock = threading.Lock()
        self._sent: set[str] = set()

    def send(self, messages: Sequence[OutgoingEmail]) -> None:
        with self._lock:
            fresh = [m for m in messages if m.message_id not in self._sent]
            if not fresh:
                return
            try:
                with self._connect() as server:
                    for email in fresh:
                        server.send_message(compose(email))
                        self._sent.add(email.message_id)
            except (OSError, smtplib.SMTPException) as exc:
                # The type only: a refusal's text may quote the address.
                raise GatewayError(
                    f"mail server {self.host}:{self.port}: {type(exc).__name__}"
                ) from exc

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        server: smtplib.SMTP
        if self._tls:
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
            if self._starttls:
                server.starttls(context=context)
        if self._user is not None:
            try:
                server.login(self._user, self._password)
            except smtplib.SMTPException:
                server.close()
                raise
        return server
