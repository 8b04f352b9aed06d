"""Open data of a scripted November, its events through the bus into a running reporting service,
downloaded without signing in as JSON, CSV and XML: every case but the tip-offs, and nothing
that names a person (`tests.hotspot_history`)."""

from __future__ import annotations

import csv
import io
import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import reporting
from services.kernel.config import Settings, load_settings
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.reporting.models import CaseFact
from tests.hotspot_history import (
    CASES,
    CHENGGUAN,
    EXPECTED_ADDRESSES,
    EXPECTED_OPEN_DATA_IDS,
    EXPECTED_W2,
    PERSONAL,
    at,
    history,
    submitted,
    tracking_no,
)
from tests.support import publish_envelopes, start_runtimes, wait_until

pytestmark = pytest.mark.integration

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
URL = "/api/v1/reports/open-data/requests"


def seen(runtime: ServiceRuntime, case: str) -> bool:
    with runtime.database.session() as session:
        return session.get(CaseFact, CASES[case]) is not None


def test_open_data_publishes_every_case_but_tip_offs_and_nothing_personal(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    events = history()
    random.Random(3).shuffle(events)
    publish_envelopes(settings.broker_url, [*events, submitted("Z", at(12, 5), CHENGGUAN, "z")])
    wait_until(lambda: seen(runtime, "Z"), 20)
    # No sign-in: it is open data.
    client = TestClient(build_app([runtime]))

    as_json = client.get(f"{URL}.json", params=NOVEMBER)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    requests = as_json.json()
    assert [r["service_request_id"] for r in requests] == EXPECTED_OPEN_DATA_IDS
    by_id = {r["service_request_id"]: r for r in requests}
    assert {k: by_id[k]["address"] for k in EXPECTED_ADDRESSES} == EXPECTED_ADDRESSES
    w2 = by_id[tracking_no("W2")]
    assert {k: w2[k] for k in EXPECTED_W2} == EXPECTED_W2
    assert by_id[tracking_no("W1")]["status"] == "open"
    assert by_id[tracking_no("W1")]["expected_datetime"] == "2026-12-10T23:59:59+08:00"
    assert by_id[tracking_no("W9")]["status"] == "closed"  # merged
    assert all(r["kind"] != "tip-off" for r in requests)

    as_csv = client.get(f"{URL}.csv", params=NOVEMBER)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "requests-2026-11-01-2026-11-30.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row["service_request_id"] for row in rows] == EXPECTED_OPEN_DATA_IDS

    as_xml = client.get(f"{URL}.xml", params=NOVEMBER)
    assert as_xml.status_code == 200
    root = ET.fromstring(as_xml.content)
    ids = [r.findtext("service_request_id") for r in root.iter("request")]
    assert ids == EXPECTED_OPEN_DATA_IDS

    tip_offs = [tracking_no(f"T{n}") for n in range(1, 6)]
    for download in (as_json, as_csv, as_xml):
        text = download.content.decode("utf-8-sig")
        for secret in (*tip_offs, "tip-off", "环境保护", *PERSONAL):
            assert secret not in text, (secret, download.headers["content-type"])
    # The raw JSON, too: no key for a description, a contact or coordinates at all.
    keys = set().union(*(json.loads(as_json.content)[0].keys(),))
    assert keys.isdisjoint({"description", "lat", "long", "contact", "phone", "email", "name"})


def test_open_data_asks_for_a_known_format_and_a_real_period(tmp_path: Path) -> None:
    # Refused before any database is touched: SQLite's default, never migrated, is enough.
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(build_app([ServiceRuntime(reporting.SERVICE, settings)]))
    assert client.get(f"{URL}.pdf", params=NOVEMBER).status_code == 404
    backwards = client.get(
        f"{URL}.json",
        params={"from": "2026-11-30", "to": "2026-11-01"},
        headers={"Accept-Language": "en"},
    )
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["detail"]] == ["query.to"]
    missing = client.get(f"{URL}.csv", params={"to": "2026-11-30"})
    assert [e["field"] for e in missing.json()["detail"]] == ["query.from"]
