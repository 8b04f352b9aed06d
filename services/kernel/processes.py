"""Process entry points: everything embedded in one process (`up`), or one service (`serve`)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn
import uvloop
from anyio import to_thread
from fastapi import FastAPI

from services.kernel import migrations
from services.kernel.bus import Bus
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.http import HTTP_THREADS, create_app
from services.kernel.outbox import replay
from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.kernel.telemetry import MULTIPROCESS, configure_logging
from services.kernel.workers import METRICS_DIR_VARIABLE, HttpWorkers, die_with_parent, listen

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 15.0


def migrate(specs: Sequence[ServiceSpec], settings: Settings) -> None:
    for spec in specs:
        migrations.upgrade(spec.name, spec.migrations, settings.database_url(spec.name))


def declare_topology(bus: Bus, specs: Sequence[ServiceSpec]) -> None:
    """Declare every handler's queue, so no event is published before its queue exists."""
    with bus.connect() as connection:
        connection.ensure_connection(max_retries=10, interval_start=0.5)
        bus.declare(
            connection,
            [
                bus.handler_queue(s.queue_name, s.routing_keys)
                for spec in specs
                for s in spec.subscriptions
            ],
        )


def build_app(runtimes: Sequence[ServiceRuntime]) -> FastAPI:
    title = "Minqing" if len(runtimes) > 1 else f"Minqing {runtimes[0].name}"
    return create_app(
        title,
        runtimes[0].settings,
        [router for r in runtimes for router in r.spec.routers],
        {r.name: r.work for r in runtimes},
        {
            **{f"{r.name}-database": r.database.ping for r in runtimes},
            "broker": runtimes[0].bus.ping,
        },
    )


def serve(
    spec: ServiceSpec, all_specs: Sequence[ServiceSpec], settings: Settings, host: str, port: int
) -> None:
    """One service on a durable broker: `minqing serve <service>`, with `settings.http_workers`
    processes answering its HTTP port (this one and the children it supervises)."""
    configure_logging(settings.log_level)
    if settings.http_workers > 1 and not MULTIPROCESS:
        raise SystemExit(
            f"--http-workers {settings.http_workers} needs {METRICS_DIR_VARIABLE} set before "
            "the metrics were loaded: start it as the `minqing` command"
        )
    migrate([spec], settings)
    runtime = ServiceRuntime(spec, settings)
    declare_topology(runtime.bus, all_specs)
    listener = listen(host, port)
    workers = (
        HttpWorkers(spec.name, listener, settings.http_workers)
        if settings.http_workers > 1
        else None
    )
    runtime.start()
    _serve_http(build_app([runtime]), listener, workers)
    runtime.stop_consuming()
    runtime.stop()
    if workers is not None and workers.gave_up is not None:
        raise SystemExit(f"minqing: {workers.gave_up}")


def serve_http_worker(
    spec: ServiceSpec, settings: Settings, fd: int, parent_pid: int, number: int
) -> None:
    """Extra HTTP process `number` of `serve --http-workers`, on its parent's listening socket."""
    die_with_parent(parent_pid)
    configure_logging(settings.log_level, http_worker=number)
    runtime = ServiceRuntime(spec, settings)
    runtime.start(http_only=True)
    _serve_http(build_app([runtime]), socket.socket(fileno=fd))
    runtime.stop()


def up(specs: Sequence[ServiceSpec], settings: Settings, host: str, port: int) -> None:
    """Every service in one process on the in-memory broker: `minqing up`."""
    configure_logging(settings.log_level)
    migrate(specs, settings)
    runtimes = [ServiceRuntime(spec, settings) for spec in specs]
    declare_topology(runtimes[0].bus, specs)
    marker = _RunMarker(settings.data_dir / "embedded-run.json")
    unclean_since = marker.unclean_since()
    marker.mark_running(since=unclean_since)
    for runtime in runtimes:
        runtime.start()
    for runtime in runtimes:
        runtime.wait_ready()
    if unclean_since is not None:
        _recover_lost_messages(runtimes, unclean_since)
    log.info("minqing is up", extra={"url": f"http://{host}:{port}"})
    _serve_http(build_app(runtimes), listen(host, port))
    drained = _drain(runtimes)
    for runtime in runtimes:
        runtime.stop_consuming()
    for runtime in runtimes:
        runtime.stop()
    if drained:
        marker.mark_clean()


def _serve_http(app: FastAPI, listener: socket.socket, workers: HttpWorkers | None = None) -> None:
    """Serve on `listener` until SIGTERM or SIGINT; in-flight requests finish before this
    returns, and so do those of the `workers` serving beside this process."""
    # A request thread waiting for the GIL behind a consumer's batch would otherwise wait up to
    # 5 ms at every switch; 1 ms keeps intake's p99 within target at a small cost in throughput.
    sys.setswitchinterval(0.001)
    # What start-up built (modules, mappers, compiled statements) lives as long as the process:
    # frozen, the collector stops walking it, and a full collection no longer stalls requests
    # for tens of milliseconds.
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=10,
            http="httptools",
        )
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # Uvicorn leaves signals alone off the main thread, so the shutdown order stays ours.
    thread = threading.Thread(target=_run_loop, args=(server, listener), name="http", daemon=True)
    thread.start()
    if workers is not None:
        workers.start(on_give_up=stop.set)
    while not stop.wait(0.5):
        if not thread.is_alive():
            raise SystemExit("the HTTP server stopped")
    if workers is not None:
        workers.stop()
    server.should_exit = True
    if workers is not None:
        workers.wait(DRAIN_TIMEOUT)
    thread.join()


def _run_loop(server: uvicorn.Server, listener: socket.socket) -> None:
    # uvloop, and the httptools parser set in the config: the C event loop and parser cost a
    # request less CPU than asyncio's own loop and h11.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(server, listener))


async def _serve(server: uvicorn.Server, listener: socket.socket) -> None:
    to_thread.current_default_thread_limiter().total_tokens = HTTP_THREADS
    await server.serve(sockets=[listener])


def _drain(runtimes: Sequence[ServiceRuntime]) -> bool:
    """Let in-memory queues empty before the process (and the memory broker) goes away."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    bus = runtimes[0].bus
    consumers = [c for r in runtimes for c in r.consumers]
    queues = [c.subscription.queue_name for c in consumers]
    queues += [f"{r.name}.tasks" for r in runtimes if r.celery is not None]
    with bus.connect() as connection:

        def settled() -> bool:
            return (
                all(r.relay.is_idle() for r in runtimes)
                and all(c.in_hand == 0 for c in consumers)
                and all(bus.queue_depth(connection, q) == 0 for q in queues)
            )

        while time.monotonic() < deadline:
            # Twice, apart: a message can be between the queue and a consumer's hands.
            if settled():
                time.sleep(0.2)
                if settled():
                    return True
            time.sleep(0.1)
    log.warning("queues did not drain; the next start will recover from the outboxes")
    return False


def _recover_lost_messages(runtimes: Sequence[ServiceRuntime], since: datetime) -> None:
    """After a crash the in-memory queues are gone: publish again what was sent since the
    crashed run started. Consumers have recorded what they handled, so nothing happens twice."""
    for runtime in runtimes:
        count = replay(runtime.name, runtime.database, runtime.bus, since)
        log.info(
            "recovered events after an unclean stop",
            extra={"service": runtime.name, "count": count},
        )


class _RunMarker:
    """Remembers whether the last embedded run stopped cleanly, and since when it ran."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def unclean_since(self) -> datetime | None:
        if not self._path.exists():
            return None
        state = json.loads(self._path.read_text())
        if state.get("clean"):
            return None
        # A little slack for clock adjustments between the runs.
        return datetime.fromisoformat(state["running_since"]) - timedelta(minutes=1)

    def mark_running(self, since: datetime | None) -> None:
        # A run that dies before recovering keeps the earlier window open for the next one.
        self._write({"running_since": (since or utcnow()).isoformat(), "clean": False})

    def mark_clean(self) -> None:
        state = json.loads(self._path.read_text())
        self._write({**state, "clean": True})

    def _write(self, state: dict[str, object]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(self._path)
