"""The IMAP poller: takes new mail from an existing mailbox, then marks what it took.

Each poll takes the unread messages not yet marked `$MinqingTaken`, records each one, and only
then marks it (`$MinqingTaken` and `\\Seen`). A crash between the two makes the next poll read
the message again, and taking it a second time changes nothing (receiving.take).
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import OperationalError

from services.intake.channels.email.receiving import take
from services.intake.channels.email.smtp import MAX_MESSAGE_BYTES
from services.kernel.config import ConfigError, Settings
from services.kernel.work import WorkOpener

log = logging.getLogger(__name__)

TAKEN = "$MinqingTaken"
# Set on mail over the size limit: left unread in the mailbox for a person, never fetched again.
TOO_LARGE = "$MinqingTooLarge"
# Messages per poll: a large backlog is taken over several polls, each one short.
BATCH = 200
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


@dataclass(frozen=True)
class Mailbox:
    """Where to poll, from `imaps://user:password@host:993/INBOX` (or `imap://`, port 143)."""

    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str


def mailbox_from_url(url: str) -> Mailbox:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or parts.username is None:
        raise ConfigError(
            "MINQING_IMAP_URL: expected imaps://user:password@host[:port]/MAILBOX (or imap://)"
        )
    tls = parts.scheme == "imaps"
    return Mailbox(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        tls=tls,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


class ImapPoller:
    """Polls the mailbox every `settings.imap_poll_seconds` on a thread of its own."""

    def __init__(self, open_work: WorkOpener, settings: Settings) -> None:
        assert settings.imap_url is not None
        self.mailbox = mailbox_from_url(settings.imap_url)
        self._open_work = open_work
        self._settings = settings
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="intake-imap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the message in hand, then stop."""
        self._stopping.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
            except (OSError, imaplib.IMAP4.error) as exc:
                # The exception's text may carry the server's words, never the password.
                log.warning("IMAP poll failed", extra={"error": type(exc).__name__})
            except OperationalError:
                log.warning("IMAP poll stopped: database unavailable; trying again later")
            except Exception:
                log.exception("IMAP poll failed")
            self._stopping.wait(self._settings.imap_poll_seconds)

    def poll(self) -> int:
        """Take what is new in the mailbox; returns how many messages were taken."""
        taken = 0
        with self._connection() as imap:
            keywords = _keywords_allowed(imap)
            criteria = (
                ["UNSEEN", "UNKEYWORD", TAKEN, "UNKEYWORD", TOO_LARGE] if keywords else ["UNSEEN"]
            )
            uids = _ok(imap.uid("SEARCH", *criteria))[0].split()[:BATCH]
            if not uids:
                return 0
            sizes = _sizes(_ok(imap.uid("FETCH", b",".join(uids).decode(), "(RFC822.SIZE)")))
            for uid in (u.decode() for u in uids):
                if self._stopping.is_set():
                    break
                if sizes.get(uid, 0) > MAX_MESSAGE_BYTES:
                    log.warning("email too large to take; left in the mailbox", extra={"uid": uid})
                    if keywords:
                        _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", f"({TOO_LARGE})"))
                    continue
                raw = _body(imap.uid("FETCH", uid, "(BODY.PEEK[])"))
                if raw is None:
                    continue
                take(self._open_work, self._settings, raw, "imap")
                # Only now, once it is committed: a crash before this re-reads it, harmlessly.
                flags = f"({TAKEN} \\Seen)" if keywords else "(\\Seen)"
                _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", flags))
                taken += 1
        return taken

    @contextmanager
    def _connection(self) -> Iterator[imaplib.IMAP4]:
        box = self.mailbox
        imap = (
            imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context())
            if box.tls
            else imaplib.IMAP4(box.host, box.port)
        )
        try:
            imap.login(box.user, box.password)
            _ok(imap.select(_quoted(box.folder)))
            yield imap
        finally:
            with suppress(OSError, imaplib.IMAP4.error):
                imap.logout()


def _ok(response: tuple[str, Sequence[object]]) -> list[bytes]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"IMAP answered {status}")
    return [d for d in data if isinstance(d, bytes)] or [b""]


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _keywords_allowed(imap: imaplib.IMAP4) -> bool:
    """Whether the mailbox keeps keywords of ours (`\\*` among its permanent flags)."""
    _, flags = imap.response("PERMANENTFLAGS")
    return any(isinstance(f, bytes) and b"\\*" in f for f in flags)


def _sizes(lines: list[bytes]) -> dict[str, int]:
    sizes = {}
    for line in lines:
        found = _SIZE.search(line)
        if found:
            uid, size = (found[1], found[2]) if found[1] else (found[4], found[3])
            sizes[uid.decode()] = int(size)
    return sizes


def _body(response: tuple[str, Sequence[object]]) -> bytes | None:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"IMAP answered {status}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None
