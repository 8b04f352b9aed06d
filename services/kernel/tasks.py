"""Celery for work that needs retries or delays: one app per service, a worker on a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task, beat, bootsteps
from celery.concurrency import thread
from celery.platforms import EX_OK
from celery.worker import state as worker_state

from services.kernel.telemetry import TASKS

log = logging.getLogger(__name__)
_MEMORY_POLLING_INTERVAL = 0.01


class MeasuredTask(Task):  # type: ignore[misc]
    """Counts every task run by outcome, so no task has to."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = super().__call__(*args, **kwargs)
        except Exception:
            TASKS.labels(self.name, "error").inc()
            raise
        TASKS.labels(self.name, "ok").inc()
        return result


class ServiceCelery(Celery):  # type: ignore[misc]
    """A service's Celery app, whose tasks are its own.

    Celery shares a task with every app of the process by default, keeping the function first
    registered under each name: with several services (embedded) or runtimes (tests) in one
    process, a task would run another's function.
    """

    def task(self, *args: Any, **opts: Any) -> Any:
        opts.setdefault("shared", False)
        return super().task(*args, **opts)


class _AppThreads(thread.TaskPool):  # type: ignore[misc]
    """Celery's thread pool, each of whose threads runs tasks through this worker's app.

    A thread-pool worker looks a task up in Celery's current app, which is per thread and
    otherwise the process's default app, where this service's tasks are not.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executor.shutdown(wait=False)
        self.executor: ThreadPoolExecutor = ThreadPoolExecutor(
            max_workers=self.limit, initializer=self.app.set_current
        )


def create_celery(service: str, broker_url: str) -> Celery:
    app = ServiceCelery(
        f"minqing-{service}", broker=broker_url, task_cls=MeasuredTask, set_as_current=False
    )
    transport_options: dict[str, Any] = (
        {"polling_interval": _MEMORY_POLLING_INTERVAL}
        if broker_url.startswith("memory://")
        else {"confirm_publish": True}
    )
    app.conf.update(
        task_default_queue=f"{service}.tasks",
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A task is acknowledged only once done, and goes back if its worker dies mid-run.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # No remote-control mailbox: nothing here uses it, and it leaves a queue per worker.
        worker_enable_remote_control=False,
        enable_utc=True,
    )
    return app


class _WakeUp(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    """Wakes the worker's event loop at least every half second.

    The loop sleeps until its next timer, up to 10 s, and only then sees that it should stop:
    without this a service's shutdown waited up to 10 s on an idle worker.
    """

    requires = ("celery.worker.components:Hub",)

    def start(self, parent: Any) -> None:
        if parent.hub is not None:
            parent.hub.call_repeatedly(WAKE_UP_SECONDS, _nothing)


WAKE_UP_SECONDS = 0.5


def _nothing() -> None:
    pass


class CeleryWorker:
    """A real Celery worker (thread pool) running inside the service's process."""

    def __init__(self, app: Celery, *, concurrency: int = 4) -> None:
        app.steps["worker"].add(_WakeUp)
        app.finalize()
        self._worker = app.WorkController(
            app=app,
            pool_cls=_AppThreads,
            concurrency=concurrency,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
        )
        self._thread = threading.Thread(
            target=self._worker.start, name="celery-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown: running tasks finish, unstarted ones stay queued.

        Stopping the worker from another thread would cancel its consumer while its own loop
        holds the connection, and hang; the flag makes the loop shut itself down instead.
        """
        worker_state.should_stop = EX_OK
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("celery worker did not stop in %ss", timeout)
        worker_state.should_stop = None


class CeleryBeat:
    """Celery beat inside the service's process, as `celery worker --beat` runs it.

    The schedule is the service's own and kept in memory: no schedule file to share or lose,
    and each entry is sent once at start-up, then every interval. Several processes of one
    service each run their beat, so a scheduled task must be safe to run twice at once (the
    deadline scan claims every step once per order; retraining finds nothing new the second
    time).
    """

    def __init__(self, app: Celery, every: Mapping[str, float]) -> None:
        # As if last run long ago: due at once when beat starts.
        long_ago = datetime(2000, 1, 1, tzinfo=UTC)
        app.conf.beat_schedule = {
            task: {"task": task, "schedule": timedelta(seconds=seconds), "last_run_at": long_ago}
            for task, seconds in every.items()
        }
        # A second at most between looks at the schedule, so that stopping never waits long.
        self._service = beat.Service(
            app, max_interval=1.0, scheduler_cls=beat.Scheduler, remote_control=False
        )
        self._thread = threading.Thread(target=self._service.start, name="celery-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._service.stop(wait=False)
        self._thread.join(timeout)
