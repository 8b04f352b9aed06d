"""The end-to-end benchmark: web submissions at a fixed rate through the four services.

`minqing bench [--rate R] [--seconds S] [--latency-rate R] [--latency-seconds S] [--keep]`
starts intake, routing, notify and reporting as separate `minqing serve` processes on a
RabbitMQ vhost and PostgreSQL databases of their own, offers open-loop load to intake's web
channel, watches the SMS outbox and the reporting summary, and measures the raw kombu ceiling
of the same broker. bench/README.md explains every figure. The last line printed is
machine-readable: `cases_per_s=… intake_p99_ms=… sms_p99_ms=… max_rss_mb=… ceiling_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "routing", "notify", "reporting")
# Processes answering each service's port (`serve --http-workers`); the others get one. With all
# four services on two cores, one process each measured better than two for intake and routing
# (2026-11-30: web p99 82 against 419 ms at 100/s, 156 against 103 cases/s): the extra processes
# and their relays cost more CPU than the GIL they spare.
DEFAULT_HTTP_WORKERS = ""
RECEIPT = "case_received"
DISPATCH = "case_dispatched"

# The targets on a 2-core machine.
TARGET_CASES_PER_S = 200.0
TARGET_INTAKE_P99_MS = 50.0
TARGET_SMS_P99_MS = 1000.0
TARGET_RSS_MB = 150.0

WARMUP_RATE = 25.0
WARMUP_SECONDS = 2.0
IDLE_SECONDS = 3.0  # how long the services' CPU use is watched before any load
TAIL_INTERVAL = 0.005  # how often the SMS outbox is read: the resolution of SMS latencies
HTTP_CONNECTIONS = 256  # the sender's cap on concurrent requests to intake
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0  # after SIGTERM, before SIGKILL
CEILING_PREFETCH = 10  # the same prefetch as Minqing's own consumers
CEILING_QUEUE = "bench.ceiling"

# Descriptions that routing's keyword rules send to one department each, so every case is
# dispatched automatically and gets both of its SMS.
DESCRIPTIONS = (
    "学校门口的校车每天超载，孩子们很危险",
    "公司拖欠工资三个月了，劳动合同也不给签",
    "小区物业不作为，路灯坏了半年没人修",
    "化工厂夜里偷排废水，河边一股异味",
    "镇卫生院看病排队太久，医生态度也差",
)
KINDS = ("complaint", "help", "suggestion")


class BenchError(Exception):
    """The run itself broke: a service died, cases were lost or rejected, a step timed out."""


def log(message: str) -> None:
    """Progress goes to stderr so that stdout ends with the report and its machine line."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the parts the run needs: a vhost, four databases, a work directory ----------------------


def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise BenchError("rabbitmqctl is not on PATH; the bench needs it for a vhost of its own")
    try:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip()
        raise BenchError(f"rabbitmqctl {' '.join(args)}: {detail}") from exc


@contextmanager
def rabbitmq_vhost(root_url: str) -> Iterator[str]:
    """A vhost of the bench's own; yields its AMQP URL and deletes it afterwards."""
    vhost = f"minqing-bench-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{root_url.rstrip('/')}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@contextmanager
def postgres_databases(root_url: str) -> Iterator[str]:
    """Four fresh databases; yields a MINQING_DATABASE_URL template with `{service}`."""
    root = root_url.rstrip("/")
    prefix = f"mqbench_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{service}" for service in SERVICES]
    try:
        admin = psycopg.connect(f"{root}/postgres", autocommit=True)
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL: {exc}") from exc
    try:
        with admin:
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"'.encode())
        yield f"{root}/{prefix}_{{service}}"
    finally:
        with psycopg.connect(f"{root}/postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="minqing-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept logs and the SMS outbox in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the four service processes ----------------------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def child_pids(pid: int) -> list[int]:
    """The children of a process (a service's extra HTTP workers), from every thread's list."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:  # the thread has gone
            continue
    return found


def parse_http_workers(raw: str) -> dict[str, int]:
    """`intake=2,routing=2` as {service: processes}; a service not named gets one."""
    counts = dict.fromkeys(SERVICES, 1)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, count = item.partition("=")
        if name not in counts or not count.isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(
                f"expected SERVICE=N,... with SERVICE one of {', '.join(SERVICES)} and N >= 1, "
                f"got {item!r}"
            )
        counts[name] = int(count)
    return counts


def describe_http_workers(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user time
    idle = values[3] + values[4]  # idle and iowait
    return (total - idle) / _CLOCK_TICKS


class ServiceProcess:
    """One `minqing serve <service>` subprocess with its log file."""

    def __init__(
        self, name: str, env: Mapping[str, str], log_dir: Path, http_workers: int = 1
    ) -> None:
        self.name = name
        self.http_workers = http_workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._env = dict(env)
        self._process: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb = 0

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        command = [sys.executable, "-m", "services", "serve", self.name]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.http_workers > 1:
            command += ["--http-workers", str(self.http_workers)]
        if self.name == "intake":
            # A port of its own for the mail receiver, so that a bench never fails for a
            # Minqing, a test or another bench already listening on the default one.
            command += ["--smtp-port", str(free_port())]
        with self.log_path.open("ab") as output:
            self._process = subprocess.Popen(
                command,
                cwd=REPO,
                env=self._env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C reaches the bench, which stops services in order.
                start_new_session=True,
            )

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        code = self.exit_code()
        if code is not None:
            raise BenchError(f"{self.name} exited with code {code}:\n{self.log_tail()}")

    def is_ready(self) -> bool:
        self.check_alive()
        try:
            ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
        return ready and self.workers_serving()

    def workers_serving(self) -> bool:
        """Every extra HTTP worker serves (uvicorn logs its start), so no phase meets one still
        starting up and no start-up counts as idle CPU."""
        if self.http_workers == 1:
            return True
        children = child_pids(self.pid)
        log = self.log_path.read_text(errors="replace")
        return len(children) == self.http_workers - 1 and all(
            f"Started server process [{pid}]" in log for pid in children
        )

    def pids(self) -> list[int]:
        """The `serve` process and its HTTP workers."""
        return [self.pid, *child_pids(self.pid)]

    def cpu_seconds(self) -> float:
        """CPU time of the service's live processes so far."""
        total = 0.0
        for pid in self.pids():
            try:
                total += cpu_seconds(pid)
            except OSError:
                continue
        return total

    def memory_kb(self, field_name: str) -> int:
        """A field of /proc/<pid>/status in kB, e.g. VmRSS or VmHWM: the largest among the
        service's processes, as the target is per process (0 once they have gone)."""
        largest = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(rf"^{field_name}:\s+(\d+) kB", status, re.MULTILINE)
            largest = max(largest, int(match[1]) if match else 0)
        return largest

    def sample_memory(self) -> None:
        self.peak_rss_kb = max(self.peak_rss_kb, self.memory_kb("VmRSS"))

    def record_high_water_mark(self) -> None:
        """The kernel's own peak RSS, which catches spikes between samples."""
        self.peak_rss_kb = max(self.peak_rss_kb, self.memory_kb("VmHWM"))

    def terminate(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Wait for it to exit, SIGKILL it if it has not by then; returns the exit code."""
        if self._process is None:
            return None
        try:
            self._process.wait(max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within {STOP_TIMEOUT:.0f}s of SIGTERM; killing it")
            self._process.kill()
            self._process.wait(10)
        return self._process.returncode


class Fleet:
    """The four services, started together and stopped in reverse order."""

    def __init__(
        self, env: Mapping[str, str], log_dir: Path, http_workers: Mapping[str, int]
    ) -> None:
        self.services = {
            name: ServiceProcess(name, env, log_dir, http_workers.get(name, 1)) for name in SERVICES
        }
        self.stop_codes: dict[str, int | None] = {}

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def __iter__(self) -> Iterator[ServiceProcess]:
        return iter(self.services.values())

    def start(self) -> None:
        for service in self:
            service.start()
        deadline = time.monotonic() + READY_TIMEOUT
        waiting = list(self)
        while waiting:
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise BenchError(f"not ready within {READY_TIMEOUT:.0f}s: {names}")
            waiting = [s for s in waiting if not s.is_ready()]
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to every service at once, then wait for all of them (once)."""
        running = [s for s in self if s.name not in self.stop_codes]
        for service in running:
            service.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for service in running:
            self.stop_codes[service.name] = service.wait(deadline - time.monotonic())


@contextmanager
def running_fleet(
    env: Mapping[str, str], log_dir: Path, http_workers: Mapping[str, int]
) -> Iterator[Fleet]:
    fleet = Fleet(env, log_dir, http_workers)
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


# --- a minimal HTTP/1.1 client ---------------------------------------------------------------


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float = 0.0
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    sent: float  # monotonic, when the request was written
    answered: float  # monotonic, when the whole response had been read


class HttpPool:
    """Keep-alive HTTP/1.1 connections to one server.

    Deliberately small: on two cores the sender's own CPU time competes with the services,
    and a general-purpose client costs several times more per request.
    """

    IDLE_LIMIT = 3.0  # below uvicorn's 5 s keep-alive timeout
    CONTENT_TYPE = "application/json"  # of every request body it sends

    def __init__(
        self, url: str, size: int = HTTP_CONNECTIONS, headers: Mapping[str, str] | None = None
    ) -> None:
        authority = url.removeprefix("http://").rstrip("/")
        # Sent with every request (a staff token, say), written once.
        self._extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        host, _, port = authority.partition(":")
        self._host, self._port = host, int(port or 80)
        self._authority = authority
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests awaiting an answer at once; reset at will

    async def request(self, method: str, path: str, body: bytes = b"") -> Reply:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._request(method, path, body)
        finally:
            self.in_flight -= 1

    async def _request(self, method: str, path: str, body: bytes) -> Reply:
        async with self._slots:
            connection = await self._checkout()
            try:
                try:
                    reply, keep = await self._exchange(connection, method, path, body)
                except (OSError, asyncio.IncompleteReadError):
                    if not connection.reused:
                        raise
                    # The server closed an idle connection as we reused it; it saw no request.
                    connection.close()
                    connection = await self._open()
                    reply, keep = await self._exchange(connection, method, path, body)
            except BaseException:  # a timeout or an error leaves the connection mid-exchange
                connection.close()
                raise
            if keep:
                connection.last_used = time.monotonic()
                connection.reused = True
                self._idle.append(connection)
            else:
                connection.close()
            return reply

    async def get(self, path: str) -> Reply:
        try:
            return await asyncio.wait_for(self.request("GET", path), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            raise BenchError(f"GET {self._authority}{path}: {type(exc).__name__} {exc}") from exc

    async def get_json(self, path: str) -> Any:
        reply = await self.get(path)
        if reply.status != 200:
            raise BenchError(f"GET {path}: HTTP {reply.status}: {reply.body[:200]!r}")
        return json.loads(reply.body)

    async def get_text(self, path: str) -> str:
        return (await self.get(path)).body.decode("utf-8", errors="replace")

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def _checkout(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.last_used < self.IDLE_LIMIT:
                return connection
            connection.close()
        return await self._open()

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, method: str, path: str, body: bytes
    ) -> tuple[Reply, bool]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._authority}\r\n"
            f"Content-Type: {self.CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n"
            f"{self._extra}\r\n"
        )
        sent = time.monotonic()
        connection.writer.write(head.encode("ascii") + body)
        raw = await connection.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise BenchError(f"{method} {path}: a response without Content-Length")
        payload = await connection.reader.readexactly(int(headers["content-length"]))
        keep = headers.get("connection", "").lower() != "close"
        return Reply(status, payload, sent, time.monotonic()), keep


# --- watching the SMS outbox, the processes and the summary ------------------------------------


class SmsTail:
    """Follows the file gateway's outbox and notes when the bench first saw each message.

    Times are the bench's own monotonic clock when it read the line, so they are comparable
    with the moment each request was sent; they are late by at most one polling interval.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[tuple[str, str], float] = {}
        self.sent_at: dict[tuple[str, str], datetime] = {}
        self.duplicates: list[tuple[str, str]] = []
        self.malformed = 0
        self._fd: int | None = None
        self._partial = b""

    def poll(self) -> None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return
        chunks = []
        while chunk := os.read(self._fd, 1 << 20):
            chunks.append(chunk)
        if not chunks:
            return
        now = time.monotonic()
        data = self._partial + b"".join(chunks)
        *complete, self._partial = data.split(b"\n")
        for line in complete:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                self.malformed += 1
                continue
            self._record(message, now)

    def _record(self, message: Mapping[str, Any], now: float) -> None:
        key = (str(message.get("tracking_no")), str(message.get("template")))
        if key in self.seen:
            self.duplicates.append(key)
            return
        self.seen[key] = now
        if message.get("sent_at"):
            self.sent_at[key] = datetime.fromisoformat(message["sent_at"])

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.poll()
            await asyncio.sleep(TAIL_INTERVAL)
        self.poll()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


async def watch_processes(fleet: Fleet, stop: asyncio.Event, failure: list[BenchError]) -> None:
    """Sample every service's RSS and notice at once when one of them dies."""
    while not stop.is_set():
        for service in fleet:
            service.sample_memory()
            try:
                service.check_alive()
            except BenchError as exc:
                failure.append(exc)
                return
        await asyncio.sleep(0.25)


# --- offering load and waiting for it to come out the other end --------------------------------


@dataclass
class Submission:
    due: float  # monotonic, when the fixed-rate schedule says it should be sent
    sent: float = math.nan
    answered: float = math.nan
    status: int = 0
    tracking_no: str = ""
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 201 and bool(self.tracking_no)


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    submissions: list[Submission] = field(default_factory=list)
    peak_in_flight: int = 0  # the most submissions awaiting intake's answer at once
    delivered_at: float = math.nan  # when the last case's SMS had all been seen
    counted_at: float = math.nan  # when reporting's summary counted every case so far
    # Where the phase's time went, from /proc and the services' /metrics.
    cpu: CpuWindow | None = None
    handlers: dict[str, tuple[int, float]] = field(default_factory=dict)
    requests: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.accepted]

    @property
    def failed(self) -> list[Submission]:
        return [s for s in self.submissions if not s.accepted]

    @property
    def first_sent(self) -> float:
        return min(s.sent for s in self.submissions)

    @property
    def last_sent(self) -> float:
        return max(s.sent for s in self.submissions)


def case_bodies(count: int, start: int) -> list[bytes]:
    """Distinct web submissions, encoded before the clock starts."""
    return [
        json.dumps(
            {
                "description": DESCRIPTIONS[i % len(DESCRIPTIONS)],
                "kind": KINDS[i % len(KINDS)],
                "contact": {"phone": f"138{i % 10**8:08d}"},
            },
            ensure_ascii=False,
        ).encode()
        for i in range(start, start + count)
    ]


async def submit(pool: HttpPool, body: bytes, submission: Submission) -> None:
    try:
        reply = await asyncio.wait_for(pool.request("POST", "/api/v1/cases", body), REQUEST_TIMEOUT)
    except TimeoutError:
        submission.error = f"no answer within {REQUEST_TIMEOUT:.0f}s"
        return
    except (OSError, asyncio.IncompleteReadError) as exc:
        submission.error = f"{type(exc).__name__}: {exc}"
        return
    submission.sent, submission.answered, submission.status = (
        reply.sent,
        reply.answered,
        reply.status,
    )
    if reply.status == 201:
        submission.tracking_no = json.loads(reply.body)["tracking_no"]
    else:
        submission.error = f"HTTP {reply.status}: {reply.body[:200]!r}"


async def offer(pool: HttpPool, phase: Phase, first_case: int) -> None:
    """The phase's web submissions, offered open loop."""
    bodies = case_bodies(round(phase.rate * phase.seconds), first_case)
    await offer_open_loop(phase, bodies, lambda body, s: submit(pool, body, s))


async def offer_open_loop(
    phase: Phase,
    bodies: Sequence[bytes],
    send: Callable[[bytes, Submission], Awaitable[None]],
    new_submission: Callable[[float], Submission] = Submission,
) -> None:
    """Open loop: request i goes out at t0 + i/rate whether or not earlier ones were answered."""
    t0 = time.monotonic() + 0.05
    tasks = []
    for i, body in enumerate(bodies):
        due = t0 + i / phase.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        submission = new_submission(due)
        phase.submissions.append(submission)
        tasks.append(asyncio.create_task(send(body, submission)))
    await asyncio.gather(*tasks)
    for s in phase.submissions:
        if math.isnan(s.sent):  # failed before a reply: count it as sent on schedule
            s.sent = s.due


async def wait_delivered(
    phase: Phase, tail: SmsTail, failure: list[BenchError], timeout: float
) -> None:
    """Until every accepted case of the phase has both its receipt and its dispatch SMS."""
    pending = {s.tracking_no for s in phase.accepted}
    deadline = time.monotonic() + timeout
    while True:
        if failure:
            raise failure[0]
        pending = {
            t for t in pending if (t, RECEIPT) not in tail.seen or (t, DISPATCH) not in tail.seen
        }
        if not pending:
            break
        if time.monotonic() > deadline:
            raise BenchError(
                f"{phase.name}: {len(pending)} of {len(phase.accepted)} accepted cases had not "
                f"got both SMS {timeout:.0f}s after the phase (e.g. {sorted(pending)[:3]})"
            )
        await asyncio.sleep(0.02)
    phase.delivered_at = max(
        max(tail.seen[(s.tracking_no, RECEIPT)], tail.seen[(s.tracking_no, DISPATCH)])
        for s in phase.accepted
    )


async def wait_counted(
    phase: Phase, reporting: HttpPool, expected: int, failure: list[BenchError], timeout: float
) -> dict[str, Any]:
    """Until reporting's summary counts `expected` cases, all of them dispatched."""
    deadline = time.monotonic() + timeout
    while True:
        if failure:
            raise failure[0]
        summary: dict[str, Any] = await reporting.get_json("/api/v1/reports/summary")
        observed = time.monotonic()
        dispatched = int(summary.get("by_status", {}).get("dispatched", 0))
        if summary["total"] == expected and dispatched == expected:
            phase.counted_at = observed
            return summary
        if summary["total"] > expected:
            raise BenchError(f"reporting counts {summary['total']} cases; {expected} were accepted")
        if observed > deadline:
            raise BenchError(
                f"{phase.name}: reporting counted {summary['total']} cases ({dispatched} "
                f"dispatched) of {expected} within {timeout:.0f}s"
            )
        await asyncio.sleep(0.05)


# --- figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    p50: float
    p95: float
    p99: float
    worst: float

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Latencies:
        return cls(
            percentile(values_ms, 50),
            percentile(values_ms, 95),
            percentile(values_ms, 99),
            max(values_ms, default=math.nan),
        )

    def __str__(self) -> str:
        return f"{self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f} ms (max {self.worst:.1f})"


def intake_latencies(phase: Phase) -> Latencies:
    """A submission that failed counts as infinitely slow, so failures cannot flatter p99."""
    return Latencies.of(
        [(s.answered - s.sent) * 1000 if s.accepted else math.inf for s in phase.submissions]
    )


def sms_latencies(phase: Phase, tail: SmsTail) -> Latencies:
    """Send to receipt SMS seen; a case without one (or not accepted) counts as infinite."""
    return Latencies.of(
        [
            (tail.seen[(s.tracking_no, RECEIPT)] - s.sent) * 1000
            if (s.tracking_no, RECEIPT) in tail.seen
            else math.inf
            for s in phase.submissions
        ]
    )


def sms_latencies_by_gateway_clock(phase: Phase, tail: SmsTail) -> Latencies:
    """The same, but ending at the gateway's own `sent_at` (wall clock) instead of our read."""
    wall_minus_monotonic = time.time() - time.monotonic()
    return Latencies.of(
        [
            (tail.sent_at[(s.tracking_no, RECEIPT)].timestamp() - wall_minus_monotonic - s.sent)
            * 1000
            if (s.tracking_no, RECEIPT) in tail.sent_at
            else math.inf
            for s in phase.submissions
        ]
    )


def sender_lag_ms(phase: Phase) -> Latencies:
    return Latencies.of([(s.sent - s.due) * 1000 for s in phase.submissions])


def parse_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text format → {(name, sorted labels): value}."""
    series: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)", line)
        if match is None:
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or "")))
        series[(match[1], labels)] = float(match[3])
    return series


Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def mean_durations(before: Metrics, after: Metrics, histogram: str) -> dict[str, tuple[int, float]]:
    """Per label set of a histogram: (count, mean ms) over the window between two scrapes."""
    result: dict[str, tuple[int, float]] = {}
    for (name, labels), total in after.items():
        if name != f"{histogram}_sum":
            continue
        count = after.get((f"{histogram}_count", labels), 0) - before.get(
            (f"{histogram}_count", labels), 0
        )
        if count <= 0:
            continue
        seconds = total - before.get((name, labels), 0.0)
        result[" ".join(v for k, v in labels if k != "le")] = (int(count), seconds / count * 1000)
    return result


async def scrape(fleet: Fleet, pools: Mapping[str, HttpPool]) -> dict[str, Metrics]:
    return {s.name: parse_metrics(await pools[s.name].get_text("/metrics")) for s in fleet}


@dataclass
class CpuWindow:
    """CPU use of each process and of the machine between two snapshots, in cores."""

    seconds: float
    processes: dict[str, float]
    bench: float
    machine: float

    def ms_per_case(self, cores: float, cases: int) -> float:
        return cores * self.seconds / cases * 1000


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by each service, by the bench and by the whole machine."""

    at: float  # monotonic
    processes: dict[str, float]
    bench: float
    machine_busy: float

    @classmethod
    def take(cls, fleet: Fleet) -> CpuSnapshot:
        return cls(
            at=time.monotonic(),
            processes={s.name: s.cpu_seconds() for s in fleet},
            bench=cpu_seconds(os.getpid()),
            machine_busy=machine_busy_seconds(),
        )

    def until(self, end: CpuSnapshot) -> CpuWindow:
        wall = end.at - self.at
        return CpuWindow(
            seconds=wall,
            processes={n: (end.processes[n] - used) / wall for n, used in self.processes.items()},
            bench=(end.bench - self.bench) / wall,
            machine=(end.machine_busy - self.machine_busy) / wall,
        )


# --- the raw kombu ceiling ---------------------------------------------------------------------


def kombu_ceiling(url: str, count: int, body: bytes, timeout: float = 300.0) -> float:
    """Persistent, confirmed publishing of `count` messages while a consumer acks each one;
    messages/s from the first publish to the last ack, on a quorum queue like Minqing's."""
    exchange = Exchange(CEILING_QUEUE, type="direct", durable=True)
    queue = Queue(
        CEILING_QUEUE,
        exchange=exchange,
        routing_key=CEILING_QUEUE,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    with Connection(url) as connection:
        queue(connection.default_channel).declare()
    consuming = threading.Event()
    received = 0
    errors: list[BaseException] = []

    def consume() -> None:
        def on_message(message: Any) -> None:
            nonlocal received
            message.ack()
            received += 1

        try:
            with (
                Connection(url) as connection,
                connection.Consumer(queue, on_message=on_message, prefetch_count=CEILING_PREFETCH),
            ):
                consuming.set()
                deadline = time.monotonic() + timeout
                while received < count and time.monotonic() < deadline:
                    try:
                        connection.drain_events(timeout=1)
                    except TimeoutError:
                        continue
        except BaseException as exc:
            errors.append(exc)
        finally:
            consuming.set()

    consumer = threading.Thread(target=consume, name="ceiling-consumer", daemon=True)
    consumer.start()
    consuming.wait(30)
    if errors:
        raise BenchError(f"kombu ceiling: the consumer failed: {errors[0]!r}")
    started = time.monotonic()
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer(exchange=exchange, routing_key=CEILING_QUEUE)
        for i in range(count):
            producer.publish(
                body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(i),
            )
    consumer.join(timeout)
    elapsed = time.monotonic() - started
    if errors:
        raise BenchError(f"kombu ceiling: the consumer failed: {errors[0]!r}")
    if received < count:
        raise BenchError(f"kombu ceiling: consumed {received} of {count} messages")
    with Connection(url) as connection:
        queue(connection.default_channel).delete()
    return count / elapsed


def representative_event() -> bytes:
    """A message the size of a `case.submitted` envelope, for the ceiling run."""
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "case.submitted",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "producer": "intake",
            "case_id": str(uuid.uuid4()),
            "trace_id": uuid.uuid4().hex,
            "data": {
                "tracking_no": "MQ20260101000001",
                "access_code": "ABCD2345",
                "channel": "web",
                "kind": "complaint",
                "category": None,
                "description": DESCRIPTIONS[0],
                "location": None,
                "contact": {"name": None, "phone": "13800000000", "email": None},
                "submitted_at": "2026-01-01T00:00:00+00:00",
                "promised_date": "2026-01-15",
            },
        },
        ensure_ascii=False,
    ).encode()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Results:
    phases: dict[str, Phase] = field(default_factory=dict)
    tail: SmsTail | None = None
    idle_cpu: CpuWindow | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    ceiling_msgs_per_s: float = math.nan
    ceiling_messages: int = 0
    stop_codes: dict[str, int | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what broke the run, if anything

    @property
    def cases_per_s(self) -> float:
        phase = self.phases.get("throughput")
        if phase is None or math.isnan(phase.counted_at):
            return math.nan
        finished = max(phase.delivered_at, phase.counted_at)
        return len(phase.accepted) / (finished - phase.first_sent)

    @property
    def submitted(self) -> int:
        return sum(len(p.submissions) for p in self.phases.values())


async def drive(args: argparse.Namespace, fleet: Fleet, outbox: Path, results: Results) -> None:
    """Warm-up, the latency phase and the throughput phase, each drained before the next."""
    intake = HttpPool(fleet["intake"].url)
    pools = {s.name: HttpPool(s.url, size=4) for s in fleet}
    tail = results.tail = SmsTail(outbox)
    stop = asyncio.Event()
    failure: list[BenchError] = []
    background = [
        asyncio.create_task(tail.follow(stop)),
        asyncio.create_task(watch_processes(fleet, stop, failure)),
    ]

    async def run_phase(phase: Phase) -> None:
        log(f"{phase.name}: {phase.rate:g} cases/s for {phase.seconds:g}s")
        first_case = results.submitted
        results.phases[phase.name] = phase
        cpu_start, before = CpuSnapshot.take(fleet), await scrape(fleet, pools)
        intake.peak_in_flight = 0
        await offer(intake, phase, first_case)
        phase.peak_in_flight = intake.peak_in_flight
        if failure:
            raise failure[0]
        if phase.failed:
            # Requests given up on may still be committed later: later counts would not add up.
            raise BenchError(
                f"{phase.name}: {len(phase.failed)} of {len(phase.submissions)} submissions "
                f"failed, e.g. {phase.failed[0].error}"
            )
        await wait_delivered(phase, tail, failure, args.drain_timeout)
        accepted = sum(len(p.accepted) for p in results.phases.values())
        results.summary = await wait_counted(
            phase, pools["reporting"], accepted, failure, args.drain_timeout
        )
        log(f"{phase.name}: {len(phase.accepted)} cases delivered and counted")
        phase.cpu = cpu_start.until(CpuSnapshot.take(fleet))
        after = await scrape(fleet, pools)
        for name in fleet.services:
            phase.handlers.update(
                mean_durations(before[name], after[name], "minqing_handler_duration_seconds")
            )
        phase.requests = mean_durations(
            before["intake"], after["intake"], "minqing_http_request_duration_seconds"
        )

    try:
        idle_start = CpuSnapshot.take(fleet)
        await asyncio.sleep(IDLE_SECONDS)
        results.idle_cpu = idle_start.until(CpuSnapshot.take(fleet))
        await run_phase(Phase("warm-up", WARMUP_RATE, WARMUP_SECONDS))
        await run_phase(Phase("latency", args.latency_rate, args.latency_seconds))
        await run_phase(Phase("throughput", args.rate, args.seconds))
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        tail.close()
        intake.close()
        for pool in pools.values():
            pool.close()


def run(args: argparse.Namespace, stack: ExitStack, results: Results) -> None:
    workdir = stack.enter_context(work_directory(args.keep))
    log("creating a RabbitMQ vhost and four PostgreSQL databases")
    amqp_url = stack.enter_context(rabbitmq_vhost(args.amqp_url))
    database_url = stack.enter_context(postgres_databases(args.postgres_url))
    outbox = workdir / "sms-outbox.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    env.update(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=database_url,
        MINQING_SECRET_KEY=secrets.token_urlsafe(48),
        MINQING_SMS_GATEWAY=f"file://{outbox}",
        MINQING_DATA_DIR=str(workdir / "data"),
        MINQING_LOG_LEVEL=args.log_level,
        # Every request comes from this one address: a per-address limit would measure itself.
        MINQING_RATE_LIMIT_PER_IP="off",
        # The web benchmark needs no SMTP receiver, nor the port one would take.
        MINQING_SMTP_PORT="off",
        # The benchmark measures the way to the gateway, at whatever hour it runs.
        MINQING_QUIET_HOURS="off",
        MINQING_SMS_DAILY_CAP="1000000",
    )
    log("starting intake, routing, notify and reporting")
    fleet = stack.enter_context(running_fleet(env, workdir, args.http_workers))
    log("all four services are ready")
    try:
        asyncio.run(drive(args, fleet, outbox, results))
    except BenchError as exc:  # keep what was measured; the ceiling is still worth having
        log(f"the run broke: {exc}")
        results.problems.append(str(exc))
    for service in fleet:
        service.record_high_water_mark()
        results.peak_rss_mb[service.name] = service.peak_rss_kb / 1024
    log("stopping the services")
    fleet.stop()
    results.stop_codes = dict(fleet.stop_codes)
    results.ceiling_messages = results.submitted
    if not results.ceiling_messages:
        return
    log(f"kombu ceiling: {results.ceiling_messages} messages on the same broker")
    try:
        results.ceiling_msgs_per_s = kombu_ceiling(
            amqp_url, results.ceiling_messages, representative_event()
        )
    except BenchError as exc:
        results.problems.append(str(exc))
    except Exception as exc:  # the broker's own errors, from kombu or py-amqp
        results.problems.append(f"kombu ceiling: {type(exc).__name__}: {exc}")


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """The figures of the machine-readable last line."""

    cases_per_s: float
    intake: Latencies | None
    sms: Latencies | None
    max_rss_mb: float
    ceiling_ratio: float

    @classmethod
    def of(cls, results: Results) -> Headline:
        latency, tail = results.phases.get("latency"), results.tail
        intake = sms = None
        if latency is not None and latency.submissions and tail is not None:
            intake, sms = intake_latencies(latency), sms_latencies(latency, tail)
        return cls(
            cases_per_s=results.cases_per_s,
            intake=intake,
            sms=sms,
            max_rss_mb=max(results.peak_rss_mb.values(), default=math.nan),
            ceiling_ratio=results.cases_per_s / results.ceiling_msgs_per_s,
        )

    def machine_line(self) -> str:
        intake_p99 = self.intake.p99 if self.intake else math.nan
        sms_p99 = self.sms.p99 if self.sms else math.nan
        return (
            f"cases_per_s={self.cases_per_s:.1f} intake_p99_ms={intake_p99:.1f} "
            f"sms_p99_ms={sms_p99:.1f} max_rss_mb={self.max_rss_mb:.1f} "
            f"ceiling_ratio={self.ceiling_ratio:.3f}"
        )


def _target_line(label: str, value: str, target: str, ok: bool) -> str:
    return f"  {label:<46} {value:<42} {target:<14} {'PASS' if ok else 'MISS'}"


def report(args: argparse.Namespace, results: Results, broken: str | None) -> list[str]:
    headline = Headline.of(results)
    tail = results.tail
    lines = [
        "",
        f"Minqing end-to-end benchmark, four services ({os.cpu_count()} CPUs; "
        f"HTTP workers {describe_http_workers(args.http_workers)})",
        "",
    ]
    for phase in results.phases.values():
        if not phase.submissions:
            continue
        span = phase.last_sent - phase.first_sent
        achieved = (len(phase.submissions) - 1) / span if span > 0 else math.nan
        lag = sender_lag_ms(phase)
        lines.append(
            f"  {phase.name:<10} offered {phase.rate:g}/s for {phase.seconds:g}s: "
            f"{len(phase.submissions)} sent at {achieved:.1f}/s, {len(phase.accepted)} accepted, "
            f"up to {phase.peak_in_flight} in flight; "
            f"sender behind schedule p99 {lag.p99:.1f} ms, max {lag.worst:.1f} ms"
        )

    lines += ["", "  figure (target)".ljust(48) + " value"]
    lines.append(
        _target_line(
            f"sustained end to end at {args.rate:g}/s offered",
            f"{headline.cases_per_s:.1f} cases/s",
            f">= {TARGET_CASES_PER_S:g}",
            headline.cases_per_s >= TARGET_CASES_PER_S,
        )
    )
    if headline.intake is not None and headline.sms is not None:
        lines.append(
            _target_line(
                f"intake HTTP p50/p95/p99 at {args.latency_rate:g}/s",
                str(headline.intake),
                f"p99 <= {TARGET_INTAKE_P99_MS:g} ms",
                headline.intake.p99 <= TARGET_INTAKE_P99_MS,
            )
        )
        lines.append(
            _target_line(
                f"submit -> receipt SMS p50/p95/p99 at {args.latency_rate:g}/s",
                str(headline.sms),
                f"p99 <= {TARGET_SMS_P99_MS:g} ms",
                headline.sms.p99 <= TARGET_SMS_P99_MS,
            )
        )
    for name, mb in results.peak_rss_mb.items():
        lines.append(
            _target_line(
                f"peak RSS {name}", f"{mb:.1f} MB", f"<= {TARGET_RSS_MB:g} MB", mb <= TARGET_RSS_MB
            )
        )
    lines += [
        "",
        f"  kombu ceiling on the same broker: {results.ceiling_msgs_per_s:.0f} msg/s "
        f"({results.ceiling_messages} persistent, confirmed, acked messages); "
        f"ceiling_ratio {headline.ceiling_ratio:.3f}",
    ]
    latency, throughput = results.phases.get("latency"), results.phases.get("throughput")
    if latency is not None and latency.submissions and tail is not None:
        lines.append(
            f"  receipt SMS at {args.latency_rate:g}/s ending at the gateway's sent_at instead: "
            f"{sms_latencies_by_gateway_clock(latency, tail)}"
        )
    if throughput is not None and throughput.submissions and tail is not None:
        lines.append(
            f"  at {args.rate:g}/s offered: intake HTTP {intake_latencies(throughput)}; "
            f"receipt SMS {sms_latencies(throughput, tail)}"
        )
    if results.summary:
        by_status = ", ".join(f"{k} {v}" for k, v in sorted(results.summary["by_status"].items()))
        lines.append(
            f"  reporting's summary at the end: total {results.summary['total']} ({by_status}), "
            f"{len(results.summary['by_department'])} departments"
        )
    lines += breakdown(results)
    if broken:
        lines.append(f"  RUN BROKEN: {broken}")
    lines += ["", headline.machine_line()]
    return lines


def breakdown(results: Results) -> list[str]:
    """Where the time went in each measured phase: CPU per process, handler and request times."""
    lines = []
    if results.idle_cpu is not None:
        idle = ", ".join(f"{n} {c:.3f}" for n, c in results.idle_cpu.processes.items())
        lines.append(f"  CPU with no load, cores: {idle}")
    for phase in results.phases.values():
        if phase.name == "warm-up" or phase.cpu is None or not phase.accepted:
            continue
        cpu, cases = phase.cpu, len(phase.accepted)
        services = ", ".join(
            f"{name} {cores:.2f} ({cpu.ms_per_case(cores, cases):.1f})"
            for name, cores in cpu.processes.items()
        )
        rest = cpu.machine - sum(cpu.processes.values()) - cpu.bench
        lines += [
            f"  {phase.name} phase, {cases} cases over {cpu.seconds:.1f}s:",
            f"    CPU, cores (ms of CPU per case): {services}",
            f"      bench {cpu.bench:.2f}; the rest, i.e. PostgreSQL, RabbitMQ and anything else "
            f"{rest:.2f} ({cpu.ms_per_case(rest, cases):.1f}); "
            f"machine {cpu.machine:.2f} of {os.cpu_count()}",
        ]
        for handler, (count, mean_ms) in sorted(phase.handlers.items()):
            lines.append(f"    handler {handler:<34} {count:>7} messages, mean {mean_ms:7.2f} ms")
        for route, (count, mean_ms) in sorted(phase.requests.items()):
            if "/api/v1/cases" in route:
                lines.append(f"    {route:<42} {count:>7} requests, mean {mean_ms:7.2f} ms")
    if results.tail is not None and results.tail.duplicates:
        duplicates = results.tail.duplicates
        lines.append(f"  DUPLICATE SMS: {len(duplicates)}, e.g. {duplicates[:3]}")
    return lines


def broken_reason(results: Results) -> str | None:
    """What makes the run itself invalid, beyond a missed target."""
    problems = list(results.problems)
    if results.tail is not None and results.tail.duplicates:
        problems.append(f"{len(results.tail.duplicates)} duplicate SMS")
    if results.tail is not None and results.tail.malformed:
        problems.append(f"{results.tail.malformed} lines of the SMS outbox are not JSON")
    unclean = {n: c for n, c in results.stop_codes.items() if c not in (0, None)}
    if unclean:
        codes = ", ".join(f"{name} exited {code}" for name, code in unclean.items())
        problems.append(f"did not stop cleanly on SIGTERM: {codes}")
    return "; ".join(problems) or None


def add_http_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--http-workers",
        type=parse_http_workers,
        default=parse_http_workers(DEFAULT_HTTP_WORKERS),
        metavar="SERVICE=N,...",
        help="processes answering each service's port, passed to `serve --http-workers` "
        "(e.g. intake=2,routing=2; a service not named gets 1, the default for all)",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="minqing bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=250.0, help="throughput phase, cases/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput phase length")
    parser.add_argument("--latency-rate", type=float, default=100.0, help="latency phase, cases/s")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="latency phase length")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="how long after a phase's last submission every case may take to come out",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    add_http_workers_option(parser)
    parser.add_argument("--log-level", default="INFO", help="the services' MINQING_LOG_LEVEL")
    parser.add_argument(
        "--amqp-url",
        default="amqp://guest:guest@127.0.0.1:5672",
        help="RabbitMQ, without a vhost; the bench adds one of its own",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL, without a database; the bench creates four of its own",
    )
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--"]:  # `minqing bench -- --rate 300` passes the separator on
        arguments = arguments[1:]
    args = parser.parse_args(arguments)
    for name in ("rate", "seconds", "latency_rate", "latency_seconds", "drain_timeout"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    results = Results()
    try:
        with ExitStack() as stack:
            run(args, stack, results)
            log("tearing down")
    except KeyboardInterrupt:
        log("interrupted; everything the bench started has been stopped and removed")
        return 130
    except BenchError as exc:
        results.problems.append(str(exc))
    broken = broken_reason(results)
    if not results.phases:
        print(f"minqing bench: {broken}", file=sys.stderr)
        return 1
    print("\n".join(report(args, results, broken)), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
