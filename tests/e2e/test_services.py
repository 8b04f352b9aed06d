"""The four services as four `minqing serve` processes on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.kernel.config import SERVICE_NAMES
from tests.support import Cluster, case_payload, read_sms, running_services, wait_until

pytestmark = pytest.mark.e2e

# Far more requests at once than intake admits (kernel.http.HTTP_THREADS).
BURST = 100


@pytest.fixture
def services(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[Cluster]:
    with running_services(SERVICE_NAMES, postgres_url, amqp_url, tmp_path) as cluster:
        yield cluster


def test_the_same_flow_runs_across_four_processes(services: Cluster, tmp_path: Path) -> None:
    intake, reporting = services.processes["intake"], services.processes["reporting"]
    payload = case_payload(description="小区路灯坏了很久没人修", category="城乡建设")
    receipt = httpx.post(f"{intake.url}/api/v1/cases", json=payload, timeout=10).json()

    def both_sms() -> list[dict[str, object]]:
        lines = [
            m
            for m in read_sms(tmp_path / "sms-outbox.jsonl")
            if m["tracking_no"] == receipt["tracking_no"]
        ]
        return lines if len(lines) == 2 else []

    templates = {m["template"] for m in wait_until(both_sms, timeout=10)}
    assert templates == {"case_received", "case_dispatched"}

    def counted() -> bool:
        figures = httpx.get(f"{reporting.url}/api/v1/reports/summary").json()
        return figures["total"] == 1 and figures["by_department"] == {"housing": 1}

    wait_until(counted, timeout=10)
    view = httpx.get(
        f"{intake.url}/api/v1/cases/{receipt['tracking_no']}",
        params={"access_code": receipt["access_code"]},
    ).json()
    assert view["status"] == "dispatched"
    assert view["department"] == "县住房和城乡建设局"
    departments = httpx.get(f"{services.url('routing')}/api/v1/departments").json()
    assert "housing" in {d["code"] for d in departments}

    for name, process in services.processes.items():
        assert httpx.get(f"{process.url}/readyz").json()["ready"] is True, name
        metrics = httpx.get(f"{process.url}/metrics").text
        assert "minqing_outbox_backlog" in metrics, name
    assert (
        'minqing_cases_received_total{channel="web"} 1.0'
        in httpx.get(f"{reporting.url}/metrics").text
    )

    for name, process in services.processes.items():
        assert process.terminate() == 0, f"{name} did not stop cleanly"


def test_a_burst_of_submissions_is_all_accepted_without_stalling(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    """More requests at once than intake admits: they wait their turn and all get through.

    (Whether a burst without admission control stalls depends on timing; the admission limit
    itself is pinned down by tests/unit/test_admission.py.)
    """
    with running_services(("intake",), postgres_url, amqp_url, tmp_path) as cluster:
        url = f"{cluster.url('intake')}/api/v1/cases"

        def submit(_: int) -> int:
            return httpx.post(url, json=case_payload(), timeout=60).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(submit, range(BURST)))
        took = time.monotonic() - started
    assert statuses == [201] * BURST
    assert took < 25, f"{BURST} concurrent submissions took {took:.1f}s"
