"""The SMTP receiver: mail for the county's mailbox, answered 250 only once it is committed."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake.channels.email.receiving import take
from services.kernel.config import Settings
from services.kernel.work import WorkOpener

log = logging.getLogger(__name__)

# Larger mail is refused (552) before it is read: attachments are limited far below this.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# Messages recorded at once; each holds a database connection while it commits. Most of a
# message's time is spent waiting for the database, so more than the cores keeps the CPU busy.
RECORDING_THREADS = 8


class _Mailbox:
    """aiosmtpd's handler: who may be written to, and what happens to a message's data."""

    def __init__(self, open_work: WorkOpener, settings: Settings, pool: ThreadPoolExecutor) -> None:
        self._open_work = open_work
        self._settings = settings
        self._pool = pool
        self._addresses = frozenset(settings.mail_addresses)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.strip().lower() not in self._addresses:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        loop = asyncio.get_running_loop()
        try:
            taken = await loop.run_in_executor(
                self._pool,
                take,
                self._open_work,
                self._settings,
                raw,
                "smtp",
                envelope.mail_from or None,
            )
        except Exception:
            log.exception("email not recorded; the sender is asked to try again")
            return "451 4.3.0 Cannot record the message now; try again later"
        return f"250 2.0.0 OK {taken.outcome}"


class SmtpReceiver:
    """aiosmtpd on a thread of its own, recording on a small pool of threads."""

    def __init__(self, open_work: WorkOpener, settings: Settings) -> None:
        assert settings.smtp_port is not None
        self._pool = ThreadPoolExecutor(RECORDING_THREADS, thread_name_prefix="smtp-record")
        self._controller = Controller(
            _Mailbox(open_work, settings, self._pool),
            # uvloop, as for HTTP: each SMTP command costs less CPU than on asyncio's own loop.
            loop=uvloop.new_event_loop(),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            server_hostname=settings.mail_addresses[0].rpartition("@")[2],
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
        )
        self.address = f"{settings.smtp_host}:{settings.smtp_port}"

    def start(self) -> None:
        # aiosmtpd logs every peer and sender at INFO; addresses stay out of our logs.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        log.info("receiving email", extra={"smtp": self.address})

    def stop(self) -> None:
        """Stop taking connections; messages being recorded finish first."""
        self._controller.stop()
        self._pool.shutdown(wait=True)
