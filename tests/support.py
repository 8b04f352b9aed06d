"""Real parts for tests: PostgreSQL databases, a RabbitMQ vhost, and Minqing processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from services.intake.submissions import Receipt, Submission, accept
from services.kernel.bus import EVENTS_EXCHANGE, Bus, Destination, Outgoing, Publisher
from services.kernel.config import SERVICE_NAMES, Settings
from services.kernel.events import Envelope
from services.kernel.events.contracts import CaseAssigned, CaseResolved, CaseSubmitted, Contact
from services.kernel.runtime import ServiceRuntime, ServiceSpec

POSTGRES_URL = os.environ.get("MINQING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("MINQING_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
REPO = Path(__file__).resolve().parent.parent
MINQING = [sys.executable, "-m", "services"]
TEST_SECRET = "test-secret-" + "x" * 40
# The run's databases and vhosts carry this id. Set on import in the controlling process,
# before pytest-xdist starts its workers, so they inherit it and the controller can sweep up
# what they leave (xdist kills a worker that takes over ten seconds to exit).
RUN = os.environ.setdefault("MINQING_TEST_RUN", uuid.uuid4().hex[:8])


def services_required() -> bool:
    return os.environ.get("MINQING_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when CI says the real services must be there."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@contextmanager
def postgres_databases(migrated: bool = True) -> Iterator[str]:
    """Four fresh databases, each at its service's head schema unless `migrated` is False;
    yields a MINQING_DATABASE_URL template with `{service}`."""
    try:
        prefix = _DATABASES.take(migrated)
    except Exception as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL}: {exc}")
    try:
        yield f"{POSTGRES_URL}/{prefix}_{{service}}"
    finally:
        _DATABASES.spend(prefix)


def sweep_run() -> None:
    """Delete whatever this run made that is still there: pytest-xdist kills a worker that
    takes over ten seconds to exit, whatever its reapers had left to do. Called once the
    session is over; a part that is down is no reason to fail it."""
    with suppress(Exception):
        _DATABASES.sweep()
    with suppress(Exception):
        _VHOSTS.sweep()


class _Reaper:
    """A thread that deletes what tests have finished with, a batch at a time, so a test's
    teardown never waits for it."""

    def __init__(
        self, delete: Callable[[list[str]], None], batch: int = 1, linger: float = 0.0
    ) -> None:
        self._delete = delete
        # A call waits for `batch` names, or until the first has waited `linger` seconds.
        self._batch = batch
        self._linger = linger
        self._spent: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def spend(self, *names: str) -> None:
        with self._lock:
            self._spent += names
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            deadline = time.monotonic() + self._linger
            while time.monotonic() < deadline:
                with self._lock:
                    if len(self._spent) >= self._batch:
                        break
                time.sleep(0.2)
            self._wake.clear()
            with self._lock:
                batch, self._spent = self._spent, []
            if batch:
                # What fails here is left to `sweep_run`.
                with suppress(Exception):
                    self._delete(batch)
            with self._lock:
                if self._spent:
                    self._wake.set()


class _DatabasePool:
    """Service databases cloned from templates migrated once per test process.

    Migrating four databases costs seconds of CPU, and PostgreSQL's DROP DATABASE waits for a
    checkpoint: a clone of a migrated template takes a fraction of that, and the drop happens
    on the reaper's thread while the next test runs.
    """

    def __init__(self) -> None:
        self.admin_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://")
        # A connection per use, from a test's thread or the reaper's; none held between uses.
        self._admin = create_engine(
            f"{self.admin_url}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self._templates: str | None = None
        self._lock = threading.Lock()
        self._reaper = _Reaper(self.drop)

    def take(self, migrated: bool) -> str:
        prefix = f"mqt_{RUN}_{uuid.uuid4().hex[:10]}"
        templates = self._migrated_templates() if migrated else None
        with self._admin.connect() as connection:
            for service in SERVICE_NAMES:
                name = f"{prefix}_{service}"
                if templates is None:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                else:
                    _clone(connection, f"{templates}_{service}", name)
        return prefix

    def spend(self, prefix: str) -> None:
        self._reaper.spend(*(f"{prefix}_{service}" for service in SERVICE_NAMES))

    def _migrated_templates(self) -> str:
        with self._lock:
            if self._templates is None:
                # Imported here: unit tests use this module without wanting every service.
                from services.__main__ import SPECS
                from services.kernel.migrations import upgrade

                prefix = f"mqt_{RUN}_template_{uuid.uuid4().hex[:6]}"
                try:
                    for service in SERVICE_NAMES:
                        url = f"{self.admin_url}/{prefix}_{service}"
                        upgrade(service, SPECS[service].migrations, url)
                except BaseException:
                    self.spend(prefix)
                    raise
                self._templates = prefix
            return self._templates

    def drop(self, names: list[str]) -> None:
        with self._admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def sweep(self) -> None:
        with self._admin.connect() as connection:
            names = connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :run"),
                {"run": f"mqt\\_{RUN}\\_%"},
            ).all()
        self.drop(list(names))


def _clone(connection: Any, template: str, name: str) -> None:
    """CREATE DATABASE from a template, which must have no session open on it: the one that
    migrated it may take a moment to go after its client hung up."""
    for attempt in range(50):
        try:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            return
        except OperationalError as exc:
            if "is being accessed by other users" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.1)


_DATABASES = _DatabasePool()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=300)


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A vhost of its own, so tests never see each other's queues; yields its AMQP URL."""
    if shutil.which("rabbitmqctl") is None:
        unavailable("rabbitmqctl is not on PATH (needed to give each test its own vhost)")
    try:
        vhost = _VHOSTS.take()
    except (subprocess.SubprocessError, OSError) as exc:
        unavailable(f"RabbitMQ: cannot create a vhost: {exc}")
    try:
        yield f"{AMQP_URL}/{vhost}"
    finally:
        _VHOSTS.spend(vhost)


class _VhostPool:
    """Fresh vhosts made a batch at a time; spent ones deleted by the reaper, a batch at a time.

    Each `rabbitmqctl` call starts an Erlang VM, about a second of CPU: three calls per test
    (add, permit, delete) cost the suite minutes. Spent vhosts are deleted a few at a time, and
    soon: one version that kept them all until the end left hundreds of quorum queues alive and
    wedged RabbitMQ.
    """

    BATCH = 16

    def __init__(self) -> None:
        self._fresh: list[str] = []
        self._reaper = _Reaper(
            lambda batch: _rabbitmqctl("eval", _each_vhost(batch, _DELETE_VHOST)),
            batch=6,
            linger=15.0,
        )

    def take(self) -> str:
        if not self._fresh:
            batch = [f"mqt-{RUN}-{uuid.uuid4().hex[:10]}" for _ in range(self.BATCH)]
            _rabbitmqctl("eval", _each_vhost(batch, _ADD_VHOST))
            self._fresh += batch
        return self._fresh.pop()

    def spend(self, vhost: str) -> None:
        self._reaper.spend(vhost)

    def sweep(self) -> None:
        if shutil.which("rabbitmqctl") is None:
            return
        prefix = f"mqt-{RUN}-"
        _rabbitmqctl(
            "eval",
            f"[begin {_DELETE_VHOST} end || V <- rabbit_vhost:list_names(), "
            f'binary:match(V, <<"{prefix}">>) =:= {{0, {len(prefix)}}}], ok.',
        )


_ADD_VHOST = (
    'ok = rabbit_vhost:add(V, <<"minqing-tests">>), '
    "ok = rabbit_auth_backend_internal:set_permissions("
    '<<"guest">>, V, <<".*">>, <<".*">>, <<".*">>, <<"minqing-tests">>)'
)
_DELETE_VHOST = 'rabbit_vhost:delete(V, <<"minqing-tests">>)'


def _each_vhost(names: Sequence[str], action: str) -> str:
    """An Erlang expression for `rabbitmqctl eval` doing `action` for each vhost V."""
    listed = ", ".join(f'<<"{name}">>' for name in names)
    return f"[begin {action} end || V <- [{listed}]], ok."


_VHOSTS = _VhostPool()


class MinqingProcess:
    """A `minqing` subprocess (up or serve) with its own environment and log file."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.args = args
        self.env = env
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> MinqingProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*MINQING, *self.args], env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.args} exited: {self.log_path.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, interval=0.2)
        return self

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, chars: int = 2500) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = "(no log)"
        return f"--- {' '.join(self.args[:2])} (log tail) ---\n{text[-chars:]}"


class Cluster:
    """Minqing processes of one test; all are killed at teardown whatever happened."""

    def __init__(self, processes: dict[str, MinqingProcess]) -> None:
        self.processes = processes

    def url(self, name: str) -> str:
        return self.processes[name].url

    def logs(self) -> str:
        return "\n".join(p.log_tail() for p in self.processes.values())

    def start(self, timeout: float = 120.0) -> None:
        # In parallel: each start pays for imports and migrations, and the box has 2 cores.
        with ThreadPoolExecutor(len(self.processes)) as pool:
            futures = [pool.submit(p.start, timeout) for p in self.processes.values()]
            for future in futures:
                try:
                    future.result()
                except AssertionError as exc:
                    raise AssertionError(f"start-up failed: {exc}\n{self.logs()}") from None

    def restart(self, name: str, timeout: float = 120.0) -> None:
        try:
            self.processes[name].start(timeout)
        except AssertionError as exc:
            raise AssertionError(f"restart of {name} failed: {exc}\n{self.logs()}") from None

    def stop(self) -> None:
        for process in self.processes.values():
            process.ensure_stopped()


@contextmanager
def running_services(
    names: Sequence[str],
    postgres_url: str,
    amqp_url: str,
    tmp_path: Path,
    serve_args: Mapping[str, Sequence[str]] | None = None,
) -> Iterator[Cluster]:
    """`minqing serve` processes on a test's own vhost and databases, SMS to a file in tmp_path;
    `serve_args` adds flags to some services' command lines."""
    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path / "data"),
        MINQING_SMS_GATEWAY=f"file://{tmp_path / 'sms-outbox.jsonl'}",
    )
    processes = {}
    for name in names:
        port = free_port()
        args = ["serve", name, "--port", str(port), *(serve_args or {}).get(name, ())]
        processes[name] = MinqingProcess(args, env, port, tmp_path / f"{name}.log")
    cluster = Cluster(processes)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def base_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    env.update(
        {
            "MINQING_SECRET_KEY": TEST_SECRET,
            "MINQING_LOG_LEVEL": "INFO",
            # The tests play many citizens from one address and often one phone.
            "MINQING_RATE_LIMIT_PER_IP": "off",
            "MINQING_RATE_LIMIT_PER_PHONE": "off",
            # No SMTP receiver unless a test asks for one: tests may run side by side.
            "MINQING_SMTP_PORT": "off",
            # Tests run at any hour and text one number often: no quiet hours, no daily cap.
            "MINQING_QUIET_HOURS": "off",
            "MINQING_SMS_DAILY_CAP": "1000000",
            **overrides,
        }
    )
    return env


def read_sms(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def case_payload(
    description: str = "学校门口的校车每天超载，孩子们很危险", **extra: Any
) -> dict[str, Any]:
    return {
        "description": description,
        "kind": "complaint",
        "contact": {"name": "张三", "phone": "13812345678"},
        **extra,
    }


def assigned(case_id: uuid.UUID, tracking_no: str) -> CaseAssigned:
    return CaseAssigned(
        case_id=case_id,
        tracking_no=tracking_no,
        work_order_id=uuid.uuid4(),
        department_code="edu",
        department_name="县教育局",
        deadline=date(2026, 12, 16),
        matched_by="test",
        kind="complaint",
        category=None,
        description="x",
        address=None,
    )


def publish_envelopes(broker_url: str, envelopes: Sequence[Envelope]) -> None:
    """Put events on the bus as a service's relay would: persistent and confirmed."""
    publisher = Publisher(Bus(broker_url))
    try:
        publisher.publish_all(
            [
                Outgoing(Destination(EVENTS_EXCHANGE, e.routing_key), e.to_bytes(), str(e.id))
                for e in envelopes
            ]
        )
    finally:
        publisher.close()


def accept_cases(runtime: ServiceRuntime, secret_key: str, count: int) -> list[Receipt]:
    """`count` web cases recorded straight through intake, in one transaction."""
    contact = Contact(phone="13812345678")
    submission = Submission("web", "complaint", "校车超载", None, None, contact)
    with runtime.work() as work:
        return [accept(work, submission, secret_key) for _ in range(count)]


def resolved(case_id: uuid.UUID, tracking_no: str, reply: str) -> Envelope:
    """`case.resolved` as routing will publish it when a department resolves the case."""
    return CaseResolved(
        case_id=case_id,
        tracking_no=tracking_no,
        work_order_id=uuid.uuid4(),
        department_code="edu",
        department_name="县教育局",
        reply=reply,
        resolved_at=datetime.now().astimezone(),
    ).envelope(producer="routing", case_id=case_id)


def case_id_of(database_url: str, tracking_no: str) -> uuid.UUID:
    """The id intake gave the case with `tracking_no` (a MINQING_DATABASE_URL template)."""
    url = database_url.format(service="intake").replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT id FROM cases WHERE tracking_no = :no"), {"no": tracking_no}
            ).scalar_one()
    finally:
        engine.dispose()
    return found if isinstance(found, uuid.UUID) else uuid.UUID(str(found))


def start_runtimes(
    settings: Settings, running: list[ServiceRuntime], *specs: ServiceSpec
) -> list[ServiceRuntime]:
    """Start a runtime per spec in this process, each ready before this returns; `running`
    (the fixture) stops them after the test."""
    started = [ServiceRuntime(spec, settings) for spec in specs]
    for runtime in started:
        runtime.start()
        running.append(runtime)
    for runtime in started:
        assert runtime.wait_ready()
    return started


def submitted_event(
    number: int, description: str = "路灯坏了", category: str | None = None
) -> CaseSubmitted:
    """A web case's `case.submitted`, citizen number `number` (their own phone), as intake
    publishes it: for tests and benches that feed notify or routing straight from the bus."""
    return CaseSubmitted(
        case_id=uuid.uuid4(),
        tracking_no=f"20261201-{number:06d}",
        access_code="ABC234",
        channel="web",
        kind="complaint",
        category=category,
        description=description,
        location=None,
        contact=Contact(phone=f"137{number:08d}"),
        submitted_at=datetime.now(UTC),
        promised_date=date(2026, 12, 16),
    )
