"""The notify benchmark: events straight onto the bus, SMS out of the gateway.

`minqing bench notify [--events N] [--smpp-events N] [--rate R] [--seconds S] [--keep]` starts
`minqing serve notify` alone on a RabbitMQ vhost and PostgreSQL databases of its own and
publishes `case.submitted` events onto the bus as intake's relay would (persistent, confirmed),
each one a citizen's receipt SMS. It measures, against the issue's targets:

- N events published as fast as possible, messages/s into the file gateway's outbox, from the
  first publish until the N-th line is written (target >= 500/s);
- the same through the SMPP gateway, against the test SMSC of `tests/smpp_server.py` running in
  this process, until it has taken all N (target >= 200/s);
- events at a fixed open-loop rate (100/s for 20 s), from publishing each event to its line
  appearing in the outbox: p50/p95/p99 (target p99 <= 500 ms).

bench/README.md explains every figure. The last line printed is machine-readable:
`file_messages_per_s=… smpp_messages_per_s=… event_to_gateway_p99_ms=…`.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType

_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
# The test SMSC lives with the tests, which are not an installed package.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from services.kernel.bus import EVENTS_EXCHANGE, Bus, Destination, Outgoing, Publisher  # noqa: E402
from tests.smpp_server import SmppServer  # noqa: E402
from tests.support import submitted_event  # noqa: E402


def _load_e2e() -> ModuleType:
    """The end-to-end benchmark's helpers (vhost, databases, processes), loaded by path."""
    spec = importlib.util.spec_from_file_location("minqing_bench_e2e", _HERE / "e2e.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


e2e = _load_e2e()
log = e2e.log
BenchError = e2e.BenchError

# The targets on a 2-core machine.
TARGET_FILE_PER_S = 500.0
TARGET_SMPP_PER_S = 200.0
TARGET_P99_MS = 500.0

TEMPLATE = "case_received"  # the one SMS a citizen's `case.submitted` becomes
PUBLISH_CHUNK = 250  # events per confirmed batch when publishing as fast as possible
WATCH_INTERVAL = 0.005  # how often the outbox and the SMSC are looked at: the time resolution
SMSC_USER, SMSC_PASSWORD, SMSC_SOURCE = "minqing", "benchpw", "106912345"


class Events:
    """Distinct citizens' `case.submitted` events, numbered across the whole run, ready to
    publish; each names its own tracking number and phone, so each is one SMS of its own."""

    def __init__(self) -> None:
        self._next = 1

    def take(self, count: int) -> list[tuple[str, Outgoing]]:
        """`count` events as (tracking number, what the relay would publish)."""
        made = []
        for number in range(self._next, self._next + count):
            event = submitted_event(number, "小区路灯坏了半年没人修")
            envelope = event.envelope(producer="intake", case_id=event.case_id)
            destination = Destination(EVENTS_EXCHANGE, envelope.routing_key)
            made.append(
                (event.tracking_no, Outgoing(destination, envelope.to_bytes(), str(envelope.id)))
            )
        self._next += count
        return made


class Watch:
    """Polls a count on a thread of its own and notes when it changed, so a phase's end is
    known to within `WATCH_INTERVAL` while the main thread publishes."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count
        self.changes: list[tuple[float, int]] = [(time.monotonic(), count())]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-watch", daemon=True)
        self._thread.start()

    @property
    def current(self) -> int:
        return self.changes[-1][1]

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._count()
            if value != self.changes[-1][1]:
                self.changes.append((time.monotonic(), value))
            self._stop.wait(WATCH_INTERVAL)

    def reached(self, target: int) -> float | None:
        """When the count first reached `target` (monotonic), if it has."""
        return next((at for at, value in self.changes if value >= target), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class SmscMessages:
    """Counts the messages the test SMSC has taken by their first parts (a long message's other
    parts would count it again), looking only at the parts that came since the last count."""

    def __init__(self, smsc: SmppServer) -> None:
        self._smsc = smsc
        self._parts_seen = 0
        self.destinations: list[str] = []

    def __call__(self) -> int:
        parts = self._smsc.submitted[self._parts_seen :]
        self._parts_seen += len(parts)
        self.destinations += [p.destination for p in parts if not p.udh or p.udh[5] == 1]
        return len(self.destinations)


@dataclass(frozen=True)
class CpuUse:
    """What a phase cost: notify's CPU, the bench's own (publisher, watcher and, for SMPP, the
    SMSC), and the whole machine's, each in seconds."""

    wall: float
    notify: float
    bench: float
    machine: float

    def per_message_ms(self, seconds: float, messages: int) -> float:
        return seconds / messages * 1000 if messages else math.nan

    def describe(self, messages: int) -> str:
        return (
            f"notify {self.notify / self.wall:.2f} cores "
            f"({self.per_message_ms(self.notify, messages):.2f} ms CPU per message), "
            f"bench {self.bench / self.wall:.2f}, "
            f"machine {self.machine / self.wall:.2f} of {os.cpu_count()}"
        )


@contextmanager
def measured_cpu(notify: e2e.ServiceProcess, into: list[CpuUse]) -> Iterator[None]:
    started = (time.monotonic(), notify.cpu_seconds(), e2e.cpu_seconds(os.getpid()))
    machine = e2e.machine_busy_seconds()
    yield
    into.append(
        CpuUse(
            wall=time.monotonic() - started[0],
            notify=notify.cpu_seconds() - started[1],
            bench=e2e.cpu_seconds(os.getpid()) - started[2],
            machine=e2e.machine_busy_seconds() - machine,
        )
    )


@dataclass
class Throughput:
    gateway: str
    messages: int
    published_s: float = math.nan  # from the first publish to the last confirm
    elapsed_s: float = math.nan  # from the first publish to the last message at the gateway
    cpu: list[CpuUse] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def describe(self) -> list[str]:
        lines = [
            f"  {self.gateway}: {self.messages} events published in {self.published_s:.2f} s "
            f"({self.messages / self.published_s:.0f}/s), the last SMS at the gateway after "
            f"{self.elapsed_s:.2f} s"
        ]
        if self.cpu:
            lines.append(f"    CPU: {self.cpu[0].describe(self.messages)}")
        return lines


@dataclass
class Latency:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    sender_lag_ms: list[float] = field(default_factory=list)
    cpu: list[CpuUse] = field(default_factory=list)

    @property
    def p99(self) -> float:
        return e2e.percentile(self.latencies_ms, 99)

    def describe(self) -> list[str]:
        lag = e2e.Latencies.of(self.sender_lag_ms)
        lines = [
            f"  latency: {len(self.latencies_ms)} events at {self.rate:g}/s "
            f"for {self.seconds:g} s; publisher behind schedule p99 {lag.p99:.1f} ms, "
            f"max {lag.worst:.1f} ms"
        ]
        if self.cpu:
            lines.append(f"    CPU: {self.cpu[0].describe(len(self.latencies_ms))}")
        return lines


@dataclass
class Results:
    file: Throughput | None = None
    smpp: Throughput | None = None
    latency: Latency | None = None
    problems: list[str] = field(default_factory=list)


# --- driving notify -----------------------------------------------------------------------------


def publish_all(publisher: Publisher, events: Sequence[tuple[str, Outgoing]]) -> None:
    for start in range(0, len(events), PUBLISH_CHUNK):
        publisher.publish_all([outgoing for _, outgoing in events[start : start + PUBLISH_CHUNK]])


def wait_for(
    watch: Watch, target: int, notify: e2e.ServiceProcess, timeout: float, what: str
) -> float:
    """The moment the watched count reached `target`; fails if notify dies or it takes too long."""
    deadline = time.monotonic() + timeout
    while (at := watch.reached(target)) is None:
        notify.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: {watch.current} of {target} within {timeout:g} s")
        time.sleep(0.05)
    return at


def measure_throughput(
    gateway: str,
    events: Sequence[tuple[str, Outgoing]],
    publisher: Publisher,
    watch: Watch,
    notify: e2e.ServiceProcess,
    timeout: float,
) -> Throughput:
    result = Throughput(gateway, len(events))
    before = watch.current
    with measured_cpu(notify, result.cpu):
        started = time.monotonic()
        publish_all(publisher, events)
        result.published_s = time.monotonic() - started
        done = wait_for(watch, before + len(events), notify, timeout, f"{gateway} SMS")
    result.elapsed_s = done - started
    log(f"{gateway}: {len(events)} SMS in {result.elapsed_s:.2f} s ({result.per_s:.0f}/s)")
    return result


def measure_latency(
    events: Sequence[tuple[str, Outgoing]],
    rate: float,
    publisher: Publisher,
    tail: e2e.SmsTail,
    watch: Watch,
    notify: e2e.ServiceProcess,
    timeout: float,
) -> Latency:
    """Open loop: each event is published at its moment on the schedule, whether or not notify
    has kept up, so a slow notify shows as latency rather than as a slower offered rate."""
    result = Latency(rate, len(events) / rate)
    before = watch.current
    sent: list[float] = []
    with measured_cpu(notify, result.cpu):
        start = time.monotonic()
        for index, (_, outgoing) in enumerate(events):
            due = start + index / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            sent.append(time.monotonic())
            publisher.publish_all([outgoing])
            result.sender_lag_ms.append((sent[-1] - due) * 1000)
        wait_for(watch, before + len(events), notify, timeout, "SMS at the fixed rate")
    result.latencies_ms = [
        (tail.seen[(tracking_no, TEMPLATE)] - at) * 1000
        for (tracking_no, _), at in zip(events, sent, strict=True)
    ]
    log(f"latency: p99 {result.p99:.1f} ms over {len(events)} events")
    return result


# --- the run --------------------------------------------------------------------------------------


@contextmanager
def running_notify(
    env: Mapping[str, str], workdir: Path, name: str
) -> Iterator[e2e.ServiceProcess]:
    notify = e2e.ServiceProcess("notify", env, workdir)
    notify.log_path = workdir / f"notify-{name}.log"
    notify.start()
    deadline = time.monotonic() + e2e.READY_TIMEOUT
    try:
        while not notify.is_ready():
            if time.monotonic() > deadline:
                raise BenchError(f"notify not ready:\n{notify.log_tail()}")
            time.sleep(0.2)
        log(f"notify ({name} gateway) is ready, pid {notify.pid}")
        yield notify
    finally:
        notify.terminate()
        code = notify.wait(e2e.STOP_TIMEOUT)
    if code != 0:
        raise BenchError(f"notify ({name}) exited {code} on SIGTERM:\n{notify.log_tail()}")


def file_phases(
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    events: Events,
    publisher: Publisher,
    results: Results,
) -> None:
    outbox = workdir / "sms-outbox.jsonl"
    tail = e2e.SmsTail(outbox)

    def lines_seen() -> int:
        tail.poll()
        return len(tail.seen)

    with running_notify(
        {**env, "MINQING_SMS_GATEWAY": f"file://{outbox}"}, workdir, "file"
    ) as notify:
        watch = Watch(lines_seen)
        try:
            log(f"file gateway: warming up with {args.warm_up} events")
            measure_throughput(
                "warm-up", events.take(args.warm_up), publisher, watch, notify, args.drain_timeout
            )
            results.file = measure_throughput(
                "file gateway",
                events.take(args.events),
                publisher,
                watch,
                notify,
                args.drain_timeout,
            )
            count = max(1, round(args.rate * args.seconds))
            log(f"latency: {count} events at {args.rate:g}/s")
            results.latency = measure_latency(
                events.take(count), args.rate, publisher, tail, watch, notify, args.drain_timeout
            )
        finally:
            watch.close()
            tail.close()
    if tail.duplicates:
        results.problems.append(f"{len(tail.duplicates)} duplicate SMS in the outbox")
    if tail.malformed:
        results.problems.append(f"{tail.malformed} lines of the outbox are not JSON")


def smpp_phase(
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    events: Events,
    publisher: Publisher,
    results: Results,
) -> None:
    smsc = SmppServer(system_id=SMSC_USER, password=SMSC_PASSWORD)
    smsc.start()
    url = f"smpp://{SMSC_USER}:{SMSC_PASSWORD}@127.0.0.1:{smsc.port}?source={SMSC_SOURCE}"
    taken = SmscMessages(smsc)
    try:
        with running_notify({**env, "MINQING_SMS_GATEWAY": url}, workdir, "smpp") as notify:
            watch = Watch(taken)
            try:
                log(f"SMPP gateway: warming up with {args.warm_up} events")
                measure_throughput(
                    "warm-up",
                    events.take(args.warm_up),
                    publisher,
                    watch,
                    notify,
                    args.drain_timeout,
                )
                results.smpp = measure_throughput(
                    "SMPP gateway",
                    events.take(args.smpp_events),
                    publisher,
                    watch,
                    notify,
                    args.drain_timeout,
                )
            finally:
                watch.close()
    finally:
        smsc.stop()
    taken()
    if duplicates := len(taken.destinations) - len(set(taken.destinations)):
        results.problems.append(f"{duplicates} duplicate SMS at the SMSC")


def run(args: argparse.Namespace, stack: ExitStack, results: Results) -> None:
    workdir = stack.enter_context(e2e.work_directory(args.keep))
    log("creating a RabbitMQ vhost and PostgreSQL databases")
    amqp_url = stack.enter_context(e2e.rabbitmq_vhost(args.amqp_url))
    database_url = stack.enter_context(e2e.postgres_databases(args.postgres_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    env.update(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=database_url,
        MINQING_SECRET_KEY=secrets.token_urlsafe(48),
        MINQING_DATA_DIR=str(workdir / "data"),
        MINQING_LOG_LEVEL=args.log_level,
        MINQING_SMTP_PORT="off",
        # The benchmark measures the way to the gateway, at whatever hour it runs.
        MINQING_QUIET_HOURS="off",
        MINQING_SMS_DAILY_CAP="1000000",
    )
    publisher = Publisher(Bus(amqp_url))
    stack.callback(publisher.close)
    events = Events()
    file_phases(args, env, workdir, events, publisher, results)
    smpp_phase(args, env, workdir, events, publisher, results)


# --- the report -----------------------------------------------------------------------------------


def _target_line(label: str, value: str, target: str, ok: bool) -> str:
    return f"  {label:<48} {value:<40} {target:<16} {'PASS' if ok else 'MISS'}"


def report(args: argparse.Namespace, results: Results) -> list[str]:
    file_rate = results.file.per_s if results.file else math.nan
    smpp_rate = results.smpp.per_s if results.smpp else math.nan
    p99 = results.latency.p99 if results.latency else math.nan
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        "",
        f"Minqing notify benchmark: `minqing serve notify` alone, case.submitted -> receipt SMS "
        f"({os.cpu_count()} CPUs, load average {load})",
        "",
        "  figure".ljust(50) + " value".ljust(41) + " target",
    ]
    if results.file:
        lines.append(
            _target_line(
                f"file gateway, {args.events} events at once",
                f"{file_rate:.1f} messages/s",
                f">= {TARGET_FILE_PER_S:g}",
                file_rate >= TARGET_FILE_PER_S,
            )
        )
    if results.smpp:
        lines.append(
            _target_line(
                f"SMPP gateway, {args.smpp_events} events at once",
                f"{smpp_rate:.1f} messages/s",
                f">= {TARGET_SMPP_PER_S:g}",
                smpp_rate >= TARGET_SMPP_PER_S,
            )
        )
    if results.latency:
        lines.append(
            _target_line(
                f"event -> outbox p50/p95/p99 at {args.rate:g}/s",
                str(e2e.Latencies.of(results.latency.latencies_ms)),
                f"p99 <= {TARGET_P99_MS:g} ms",
                p99 <= TARGET_P99_MS,
            )
        )
    lines.append("")
    for part in (results.file, results.smpp, results.latency):
        if part is not None:
            lines += part.describe()
    for problem in results.problems:
        lines.append(f"  RUN BROKEN: {problem}")
    lines += [
        "",
        f"file_messages_per_s={file_rate:.1f} smpp_messages_per_s={smpp_rate:.1f} "
        f"event_to_gateway_p99_ms={p99:.1f}",
    ]
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="minqing bench notify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=5000, help="file gateway: events at once")
    parser.add_argument(
        "--smpp-events", type=int, help="SMPP gateway: events at once (default: --events)"
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=50,
        help="events through each gateway before measuring, so start-up stays out of the figures",
    )
    parser.add_argument("--rate", type=float, default=100.0, help="latency phase, events/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency phase length")
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="how long a phase's SMS may take"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument("--log-level", default="INFO", help="notify's MINQING_LOG_LEVEL")
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("MINQING_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
        help="RabbitMQ, without a vhost; the bench adds one of its own",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MINQING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL, without a database; the bench creates its own",
    )
    args = parser.parse_args(argv)
    if args.smpp_events is None:
        args.smpp_events = args.events
    if (
        min(args.events, args.smpp_events) < 1
        or min(args.rate, args.seconds, args.drain_timeout) <= 0
    ):
        parser.error("--events, --smpp-events, --warm-up, --rate, --seconds, --drain-timeout: > 0")
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
    print("\n".join(report(args, results)), flush=True)
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
