"""`minqing serve <service> --http-workers 2`: two processes answer one port as one service."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support import MinqingProcess, case_payload, running_services, wait_until

pytestmark = pytest.mark.e2e

SUBMISSIONS = 60
TWO_WORKERS = ("--http-workers", "2")


def children(process: MinqingProcess) -> list[int]:
    """The pids of a process's children, from every thread's list in /proc."""
    assert process.process is not None
    tasks = Path(f"/proc/{process.process.pid}/task")
    found: list[int] = []
    for task in tasks.iterdir():
        try:
            found += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def serving_worker(process: MinqingProcess, previous: int | None = None) -> int:
    """The pid of the process's child once it serves (uvicorn logs its start), not `previous`."""

    def started() -> int | None:
        log = process.log_path.read_text(errors="replace")
        for pid in children(process):
            if pid != previous and alive(pid) and f"Started server process [{pid}]" in log:
                return pid
        return None

    found: int = wait_until(started, timeout=20, interval=0.2)
    return found


def consumers_per_queue(amqp_url: str, prefix: str) -> dict[str, int]:
    """How many consumers each of a vhost's queues named `prefix`… has, by rabbitmqctl."""
    vhost = urlsplit(amqp_url).path.lstrip("/")
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_consumers", "--vhost", vhost, "--no-table-headers"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    queues = [line.split()[0] for line in listing.splitlines() if line.strip()]
    return {queue: queues.count(queue) for queue in queues if queue.startswith(prefix)}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def metrics_dir(child: int) -> Path:
    """Where the workers of one `serve` keep their metrics (the child was started with it)."""
    environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
    values = dict(entry.decode().split("=", 1) for entry in environ if b"=" in entry)
    return Path(values["PROMETHEUS_MULTIPROC_DIR"])


def submissions_answered_by(pid: int, directory: Path, tmp_path: Path) -> float:
    """The web submissions one process answered with 201, from its own metrics files."""
    own = Path(tempfile.mkdtemp(dir=tmp_path))
    for path in directory.glob(f"*_{pid}.db"):
        shutil.copy(path, own / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(own))
    value = registry.get_sample_value(
        "minqing_http_requests_total",
        {"service": "intake", "method": "POST", "route": "/api/v1/cases", "status": "201"},
    )
    return value or 0.0


def submit(url: str) -> dict[str, Any] | None:
    """One web case on a connection of its own, so the kernel picks a process each time."""
    try:
        response = httpx.post(f"{url}/api/v1/cases", json=case_payload(), timeout=30)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 201 else None


def dispatched(url: str, receipt: dict[str, Any]) -> bool:
    view = httpx.get(
        f"{url}/api/v1/cases/{receipt['tracking_no']}",
        params={"access_code": receipt["access_code"]},
        timeout=10,
    )
    return view.status_code == 200 and view.json()["status"] == "dispatched"


def wait_all_dispatched(url: str, receipts: list[dict[str, Any]], timeout: float) -> None:
    """Every receipt's case reaches routing and back; each is asked until it has."""
    waiting = list(receipts)

    def done() -> bool:
        waiting[:] = [r for r in waiting if not dispatched(url, r)]
        return not waiting

    wait_until(done, timeout=timeout, interval=0.2)


def test_two_processes_share_the_port_through_a_crash_and_a_stop(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    # One scenario, so that the services start once: the whole file stays fast.
    serve_args = {"intake": TWO_WORKERS, "reporting": TWO_WORKERS}
    names = ("intake", "routing", "reporting")
    with running_services(names, postgres_url, amqp_url, tmp_path, serve_args) as cluster:
        intake, reporting = cluster.processes["intake"], cluster.processes["reporting"]
        child = serving_worker(intake)
        serving_worker(reporting)
        directory = metrics_dir(child)
        # The child answers HTTP only: each of intake's queues still has the parent's one consumer.
        intake_queues = consumers_per_queue(amqp_url, "intake.")
        assert intake_queues
        assert set(intake_queues.values()) == {1}, intake_queues
        both_answer_and_metrics_add_up(intake, reporting, child, directory, tmp_path)
        restarted = a_killed_worker_is_restarted_and_nothing_is_lost(intake, child, tmp_path)

        started = time.monotonic()
        everyone = {"intake": [restarted], "reporting": children(reporting)}
        for name, process in cluster.processes.items():
            assert process.terminate(timeout=20) == 0, f"{name} did not stop cleanly"
        assert time.monotonic() - started < 20
        for name, pids in everyone.items():
            assert pids, name
            assert not any(alive(pid) for pid in pids), f"{name} left {pids} behind"
        assert not directory.exists()


def both_answer_and_metrics_add_up(
    intake: MinqingProcess,
    reporting: MinqingProcess,
    child: int,
    directory: Path,
    tmp_path: Path,
) -> None:
    assert intake.process is not None
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda _: submit(intake.url), range(SUBMISSIONS)))
    accepted = [r for r in receipts if r is not None]
    assert len(accepted) == SUBMISSIONS

    # Both processes answered some, and together exactly the submissions.
    by_parent = submissions_answered_by(intake.process.pid, directory, tmp_path)
    by_child = submissions_answered_by(child, directory, tmp_path)
    assert by_parent > 0, (by_parent, by_child)
    assert by_child > 0, (by_parent, by_child)
    assert by_parent + by_child == SUBMISSIONS

    # /metrics adds the processes up, whichever of them serves the scrape.
    sample = (
        'minqing_http_requests_total{method="POST",route="/api/v1/cases",'
        f'service="intake",status="201"}} {float(SUBMISSIONS)}'
    )
    for _ in range(6):
        assert sample in httpx.get(f"{intake.url}/metrics").text

    wait_all_dispatched(intake.url, accepted, timeout=20)

    # Reporting's own collector answers from either of its processes.
    def counted() -> bool:
        text = httpx.get(f"{reporting.url}/metrics").text
        return f'minqing_cases_received_total{{channel="web"}} {float(SUBMISSIONS)}' in text

    wait_until(counted, timeout=20)
    for _ in range(6):
        assert counted()


def a_killed_worker_is_restarted_and_nothing_is_lost(
    intake: MinqingProcess, child: int, tmp_path: Path
) -> int:
    """kill -9 of the child while submissions go on; returns the new child's pid."""
    receipts: list[dict[str, Any] | None] = []
    stop = threading.Event()

    def keep_submitting() -> None:
        while not stop.wait(0.05):
            receipts.append(submit(intake.url))

    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(keep_submitting)
        wait_until(lambda: len(receipts) >= 10, timeout=20)
        os.kill(child, signal.SIGKILL)
        restarted = serving_worker(intake, previous=child)
        settled = len(receipts)
        wait_until(lambda: len(receipts) >= settled + 10, timeout=20)
        stop.set()

    # The new worker serves: requests on fresh connections reach it too.
    directory = metrics_dir(restarted)
    wait_until(
        lambda: submit(intake.url) and submissions_answered_by(restarted, directory, tmp_path) > 0,
        timeout=20,
    )
    accepted = [r for r in receipts if r is not None]
    assert len(accepted) >= len(receipts) - 4  # at most the requests in the killed one's hands
    wait_all_dispatched(intake.url, accepted, timeout=30)
    return restarted
