"""Several processes serving one service's HTTP port: `minqing serve <service> --http-workers N`.

On a small machine a service's request threads share one GIL with its consumers, relay and
periodic jobs, and wait behind them. The `serve` process binds the port and serves on it as
worker 1; it also starts N-1 children that inherit the listening socket and only answer HTTP
(each with its own outbox relay), and restarts them when they die. The kernel hands each new
connection to whichever process accepts it first. No SO_REUSEPORT: a second `serve` on the
same port still fails to bind.

This module is imported before prometheus_client (see `share_metrics_between_workers`), so it
imports prometheus_client only inside functions.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
WORKERS_VARIABLE = "MINQING_HTTP_WORKERS"
# The internal subcommand a child runs; not in `minqing --help`.
CHILD_COMMAND = "http-worker"
# A child that dies this soon after its start counts as a fast failure; this many in a row
# and the supervisor gives up rather than restart a crash loop forever.
FAST_FAILURE_SECONDS = 10.0
MAX_FAST_FAILURES = 5
MAX_BACKOFF_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


def requested_workers(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """How many HTTP workers a command line asks for: 1 unless it is a `serve` asking more.

    Looks at the flag, then the environment, as the parser and settings will; anything
    malformed counts as 1 here and is refused with a clear message by them.
    """
    if argv[:1] != ["serve"]:
        return 1
    raw = environ.get(WORKERS_VARIABLE, "1")
    for index, argument in enumerate(argv):
        if argument == "--http-workers" and index + 1 < len(argv):
            raw = argv[index + 1]
        elif argument.startswith("--http-workers="):
            raw = argument.partition("=")[2]
    return int(raw) if raw.strip().isdigit() else 1


def share_metrics_between_workers(argv: Sequence[str], environ: MutableMapping[str, str]) -> None:
    """Give a multi-worker `serve` a fresh private metrics directory before prometheus_client
    is imported: the client picks its storage at import. The children inherit it; this process
    removes it when it exits, after them. Nothing changes for any other command."""
    if requested_workers(argv, environ) > 1:
        directory = tempfile.mkdtemp(prefix="minqing-metrics-")
        environ[METRICS_DIR_VARIABLE] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen on the service's port; the children inherit this socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise SystemExit(
            f"cannot listen on {host}:{port}: {exc.strerror} (is the port taken?)"
        ) from None


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGTERM this process when its parent dies, so no child outlives it.

    SIGTERM, not SIGKILL: the child then finishes its requests and flushes its relay.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.warning("could not ask for a parent-death signal", extra={"parent": parent_pid})
    # The parent may have died before the request above: then nobody would ever signal us.
    if os.getppid() != parent_pid:
        raise SystemExit("the serve process that started this HTTP worker has gone")


def fast_failures_after(previous: int, lived: float) -> int:
    """The run of quick deaths after a child that `lived` seconds died; a long life resets it."""
    return previous + 1 if lived < FAST_FAILURE_SECONDS else 0


def next_backoff(fast_failures: int) -> float:
    """Seconds before restarting a child after its `fast_failures`-th quick death in a row."""
    return 0.0 if fast_failures == 0 else min(0.5 * 2 ** (fast_failures - 1), MAX_BACKOFF_SECONDS)


@dataclass
class _Child:
    number: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    fast_failures: int = 0
    restart_at: float | None = None


class HttpWorkers:
    """The children serving HTTP beside the `serve` process, supervised from a thread."""

    def __init__(self, service: str, listener: socket.socket, count: int) -> None:
        self.service = service
        self.gave_up: str | None = None
        self._fd = listener.fileno()
        # Worker 1 is the `serve` process itself.
        self._children = [_Child(number) for number in range(2, count + 1)]
        self._stopping = threading.Event()
        self._on_give_up: Callable[[], None] = lambda: None
        self._thread = threading.Thread(target=self._supervise, name="http-workers", daemon=True)

    def start(self, on_give_up: Callable[[], None]) -> None:
        """Start every child; `on_give_up` is called if they keep dying (then see `gave_up`)."""
        self._on_give_up = on_give_up
        for child in self._children:
            self._spawn(child)
        self._thread.start()

    def stop(self) -> None:
        """Restart nothing more and ask every child to finish its requests and stop."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        for child in self._children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Wait for the children to exit; any still running at `timeout` is killed."""
        deadline = time.monotonic() + timeout
        for child in self._children:
            if child.process is None:
                continue
            try:
                code = child.process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                log.warning("HTTP worker still busy; killing it", extra=self._extra(child))
                child.process.kill()
                code = child.process.wait()
            self._reaped(child)
            if code != 0:
                log.warning("HTTP worker stopped uncleanly", extra=self._extra(child, code=code))

    def pids(self) -> list[int]:
        return [c.process.pid for c in self._children if c.process and c.process.poll() is None]

    def _spawn(self, child: _Child) -> None:
        command = [sys.executable, "-m", "services", CHILD_COMMAND, self.service]
        command += ["--fd", str(self._fd), "--parent", str(os.getpid())]
        command += ["--worker", str(child.number)]
        # The parent-death signal comes when the thread that started a child ends, not the
        # process: here the main or the supervising thread, both alive until `stop`.
        child.process = subprocess.Popen(command, pass_fds=(self._fd,))  # noqa: S603
        child.started = time.monotonic()
        child.restart_at = None
        log.info("HTTP worker started", extra=self._extra(child))

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            for child in self._children:
                if not self._look_after(child):
                    return

    def _look_after(self, child: _Child) -> bool:
        """Restart `child` if it died, after its backoff; False when giving up."""
        assert child.process is not None
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                self._spawn(child)
            return True
        code = child.process.poll()
        if code is None:
            return True
        self._reaped(child)
        lived = now - child.started
        child.fast_failures = fast_failures_after(child.fast_failures, lived)
        if child.fast_failures >= MAX_FAST_FAILURES:
            self.gave_up = (
                f"HTTP worker {child.number} of {self.service} died {child.fast_failures} times "
                f"in a row within {FAST_FAILURE_SECONDS:g}s of starting (last exit code {code})"
            )
            log.error("giving up on the HTTP workers", extra={"reason": self.gave_up})
            self._on_give_up()
            return False
        backoff = next_backoff(child.fast_failures)
        log.warning(
            "HTTP worker died; restarting it",
            extra=self._extra(child, code=code, lived_s=round(lived, 1), in_s=backoff),
        )
        child.restart_at = now + backoff
        return True

    def _reaped(self, child: _Child) -> None:
        """Forget a dead child's live gauges; its counters stay in the sums."""
        assert child.process is not None
        from prometheus_client import multiprocess

        if METRICS_DIR_VARIABLE in os.environ:
            multiprocess.mark_process_dead(child.process.pid)  # type: ignore[no-untyped-call]

    def _extra(self, child: _Child, **more: object) -> dict[str, object]:
        pid = child.process.pid if child.process is not None else None
        return {"service": self.service, "http_worker": child.number, "pid": pid, **more}
