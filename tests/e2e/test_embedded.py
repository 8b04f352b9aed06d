"""`minqing up`: one process, no server to install, the whole flow end to end."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support import MinqingProcess, base_env, case_payload, free_port, read_sms, wait_until

pytestmark = pytest.mark.e2e

PHONE = "13812345678"


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[MinqingProcess]:
    port = free_port()
    process = MinqingProcess(
        ["up", "--port", str(port), "--data-dir", str(tmp_path / "var")],
        base_env(),
        port,
        tmp_path / "minqing.log",
    )
    yield process.start()
    process.ensure_stopped()


def to_citizens(outbox: Path) -> list[dict[str, object]]:
    """The messages to citizens, without those to the departments' liaison officers."""
    return [m for m in read_sms(outbox) if m["to"] == PHONE]


def both_sms(outbox: Path, tracking_no: str) -> list[dict[str, object]]:
    lines = [m for m in to_citizens(outbox) if m["tracking_no"] == tracking_no]
    return lines if len(lines) >= 2 else []


def test_a_submitted_case_is_routed_notified_tracked_and_counted(
    embedded: MinqingProcess, tmp_path: Path
) -> None:
    outbox = tmp_path / "var" / "sms-outbox.jsonl"
    response = httpx.post(f"{embedded.url}/api/v1/cases", json=case_payload(), timeout=10)
    assert response.status_code == 201, response.text
    receipt = response.json()

    messages = wait_until(lambda: both_sms(outbox, receipt["tracking_no"]), timeout=5)
    by_template = {m["template"]: m for m in messages}
    assert set(by_template) == {"case_received", "case_dispatched"}
    received = by_template["case_received"]
    assert received["to"] == PHONE
    assert str(received["text"]).startswith("【")
    assert receipt["tracking_no"] in str(received["text"])
    assert receipt["access_code"] in str(received["text"])
    assert "县教育局" in str(by_template["case_dispatched"]["text"])
    assert all(m["segments"] == 1 for m in messages)

    view = httpx.get(
        f"{embedded.url}/api/v1/cases/{receipt['tracking_no']}",
        params={"access_code": receipt["access_code"]},
    ).json()
    assert view["status"] == "dispatched"
    assert view["department"] == "县教育局"
    assert [t["status"] for t in view["timeline"]] == ["received", "dispatched"]

    def counted() -> dict[str, object] | None:
        figures = httpx.get(f"{embedded.url}/api/v1/reports/summary").json()
        return figures if figures["by_status"].get("dispatched") == 1 else None

    figures = wait_until(counted, timeout=5)
    assert figures["total"] == 1
    assert figures["by_channel"] == {"web": 1}
    assert figures["by_department"] == {"edu": 1}

    metrics = httpx.get(f"{embedded.url}/metrics").text
    assert 'minqing_cases_received_total{channel="web"} 1.0' in metrics
    assert "minqing_events_consumed_total" in metrics
    assert httpx.get(f"{embedded.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{embedded.url}/readyz").status_code == 200
    departments = httpx.get(f"{embedded.url}/api/v1/departments").json()
    assert {"edu", "hrss", "union", "yuexi"} <= {d["code"] for d in departments}
    the_categories_a_citizen_may_choose_come_from_routings_catalogue(embedded)


def test_sigterm_stops_cleanly_and_a_restart_keeps_everything_without_resending(
    embedded: MinqingProcess, tmp_path: Path
) -> None:
    outbox = tmp_path / "var" / "sms-outbox.jsonl"
    receipts = [
        httpx.post(f"{embedded.url}/api/v1/cases", json=case_payload(), timeout=10).json()
        for _ in range(5)
    ]
    refused = httpx.post(
        f"{embedded.url}/api/v1/cases",
        json=case_payload(contact={"phone": "bad 13912345678 number"}),
        timeout=10,
    )
    assert refused.status_code == 422
    # Stop at once: work still in flight must be finished, not dropped.
    assert embedded.terminate() == 0
    # Neither the citizens' phone numbers nor one refused as malformed is in the logs.
    log = embedded.log_path.read_text()
    assert log, "the process logged nothing at all"
    assert PHONE not in log
    assert "13912345678" not in log
    state = json.loads((tmp_path / "var" / "embedded-run.json").read_text())
    assert state["clean"] is True
    assert len(to_citizens(outbox)) == 10

    embedded.start()
    for receipt in receipts:
        view = httpx.get(
            f"{embedded.url}/api/v1/cases/{receipt['tracking_no']}",
            params={"access_code": receipt["access_code"]},
        )
        assert view.json()["status"] == "dispatched"
    assert httpx.get(f"{embedded.url}/api/v1/reports/summary").json()["total"] == 5
    assert len(to_citizens(outbox)) == 10, "a clean restart sends nothing again"


def test_sigterm_in_the_middle_of_a_burst_loses_nothing(
    embedded: MinqingProcess, tmp_path: Path
) -> None:
    outbox = tmp_path / "var" / "sms-outbox.jsonl"
    url = f"{embedded.url}/api/v1/cases"
    with ThreadPoolExecutor(20) as pool:
        receipts = list(
            pool.map(lambda _: httpx.post(url, json=case_payload(), timeout=30).json(), range(100))
        )
    assert embedded.terminate() == 0

    embedded.start()

    def all_counted() -> bool:
        summary = httpx.get(f"{embedded.url}/api/v1/reports/summary").json()
        return summary["by_status"] == {"dispatched": 100}

    wait_until(all_counted, timeout=60)
    sent = Counter((m["tracking_no"], m["template"]) for m in read_sms(outbox))
    for receipt in receipts:
        for template in ("case_received", "case_dispatched"):
            assert sent[(receipt["tracking_no"], template)] == 1, (receipt, template)


def the_categories_a_citizen_may_choose_come_from_routings_catalogue(
    embedded: MinqingProcess,
) -> None:
    url = f"http://127.0.0.1:{embedded.port}/api/v1/categories"

    def published() -> list[dict[str, object]] | None:
        categories = httpx.get(url, timeout=5).json()
        return categories or None

    categories = wait_until(published, 15)
    by_name = {c["category"]: c["department"] for c in categories}
    assert by_name["教育文体"] == {
        "code": "edu",
        "name": "县教育局",
        "name_en": "County Education Bureau",
    }
    assert by_name["越溪乡"]["code"] == "yuexi"
    assert [c["category"] for c in categories][:2] == ["教育文体", "教育"], "catalogue order"
