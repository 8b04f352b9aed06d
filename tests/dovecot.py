"""A real IMAP server for tests: a Dovecot instance of the test's own, on a free port.

Its configuration, user list and mail live in a temporary folder; no system service is used.
`.ci/run` installs Dovecot (Debian's dovecot-imapd) when it is missing.
"""

from __future__ import annotations

import imaplib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port, unavailable, wait_until

USER = "county"
PASSWORD = "mailbox-secret"
# Mail processes must not run as root; the mail folder is made writable for this user.
MAIL_UID = 65534

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
_UID = re.compile(rb"APPENDUID \d+ (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


class Dovecot:
    """One running instance with one mailbox."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.config = root / "dovecot.conf"

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        return imap

    def append(self, raw: bytes) -> str:
        """Put a message in the inbox, unread, as a mail server would deliver it; its UID."""
        return self.append_all([raw])[0]

    def append_all(self, raws: list[bytes]) -> list[str]:
        """Put messages in the inbox over one connection; their UIDs."""
        imap = self.connect()
        try:
            uids = []
            for raw in raws:
                status, data = imap.append("INBOX", None, None, raw)
                assert status == "OK", data
                found = _UID.search(data[0] or b"")
                assert found is not None, data
                uids.append(found.group(1).decode())
            return uids
        finally:
            imap.logout()

    def flags(self) -> dict[str, set[str]]:
        """Every message's flags, by UID."""
        imap = self.connect()
        try:
            status, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
            assert status == "OK", data
            result = {}
            for line in data:
                if not isinstance(line, bytes):
                    continue
                uid = re.search(rb"UID (\d+)", line)
                flags = _FLAGS.search(line)
                if uid and flags:
                    result[uid.group(1).decode()] = set(flags.group(1).decode().split())
            return result
        finally:
            imap.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"


@contextmanager
def dovecot_server() -> Iterator[Dovecot]:
    """Start Dovecot with a configuration of its own; stop it and remove its files afterwards."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if binary is None:
        unavailable("dovecot is not installed (Debian package dovecot-imapd; .ci/run installs it)")
    if os.geteuid() != 0:
        unavailable("the test Dovecot instance runs its mail processes as another user: needs root")
    assert binary is not None
    # Not under pytest's tmp_path: the mail processes' user must be able to reach the folder.
    root = Path(tempfile.mkdtemp(prefix="minqing-dovecot-"))
    root.chmod(0o755)
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir()
    (root / "mail").chmod(0o777)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    server = Dovecot(root, port)
    server.config.write_text(_CONFIG.format(root=root, port=port, uid=MAIL_UID))
    # Dovecot goes to the background holding its output open: a file, not a pipe, takes it.
    with (root / "startup.log").open("wb") as output:
        started = subprocess.run(
            [binary, "-c", str(server.config)], stdout=output, stderr=output, timeout=30
        )
    if started.returncode != 0:
        detail = (root / "startup.log").read_text(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
        raise AssertionError(f"dovecot did not start: {detail}")
    try:
        wait_until(lambda: _answers(server), timeout=15)
        yield server
    finally:
        subprocess.run(
            [binary, "-c", str(server.config), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=30,
        )
        wait_until(lambda: not (root / "run" / "master.pid").exists(), timeout=15)
        shutil.rmtree(root, ignore_errors=True)


def _answers(server: Dovecot) -> bool:
    try:
        server.connect().logout()
    except (OSError, imaplib.IMAP4.error):
        return False
    return True
