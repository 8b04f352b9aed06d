"""Hot spots of a scripted November, its events put on the bus out of order, read through
`/api/v1/reports/hotspots` from a running reporting service and checked against the hot spots
worked out by hand (`tests.hotspot_history`), and on the leaders' page."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import reporting
from services.kernel.auth import Staff, mint_token
from services.kernel.config import Settings, load_settings
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.reporting.models import CaseFact
from tests.hotspot_history import (
    CASES,
    CHENGGUAN,
    EXPECTED_DEFAULT,
    EXPECTED_MIN_2,
    at,
    history,
    submitted,
)
from tests.support import publish_envelopes, start_runtimes, wait_until

pytestmark = pytest.mark.integration

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
URL = "/api/v1/reports/hotspots"


def seen(runtime: ServiceRuntime, case: str) -> bool:
    with runtime.database.session() as session:
        return session.get(CaseFact, CASES[case]) is not None


def reader(secret_key: str) -> dict[str, str]:
    supervisor = Staff("sv-1", "李强", frozenset({"supervisor"}))
    return {"Authorization": f"Bearer {mint_token(supervisor, secret_key)}"}


def test_a_scripted_month_gives_the_hot_spots_worked_out_by_hand(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    events = history()
    # Out of order: the merge before the case it merges, assignments before submissions.
    random.Random(5).shuffle(events)
    # One queue, one consumer, in order: once the last case is in, everything before it is.
    publish_envelopes(settings.broker_url, [*events, submitted("Z", at(12, 5), CHENGGUAN, "z")])
    wait_until(lambda: seen(runtime, "Z"), 20)

    client = TestClient(build_app([runtime]), headers=reader(settings.secret_key))
    found = client.get(URL, params=NOVEMBER)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["hot_spots"] == EXPECTED_DEFAULT
    assert body["period"] == NOVEMBER
    assert body["previous_period"] == {"from": "2026-10-02", "to": "2026-10-31"}
    assert (body["min_cases"], body["min_rising_cases"]) == (5, 3)

    lower = client.get(URL, params={**NOVEMBER, "min_cases": 2})
    assert lower.status_code == 200, lower.text
    assert lower.json()["hot_spots"] == EXPECTED_MIN_2

    page = client.get("/reports", params=NOVEMBER)
    assert page.status_code == 200
    # The leaders' page: 23 cases came in November in China, three of them by the hotline, on
    # 30 days; the hot spots are the API's, in its order.
    assert re.search(r'id="received">.*?class="value">23<', page.text)
    bars = re.findall(r'<g class="bar" data-value="(\d+)">\s*<title>([^<:]+):', page.text)
    assert ("3", "热线电话") in bars
    assert ("20", "网站") in bars
    days = [int(n) for n in re.findall(r'class="day" [^>]*data-value="(\d+)"', page.text)]
    assert (len(days), sum(days)) == (30, 23)
    rows = re.findall(r'class="numbers">([^<]+)<', page.text)
    assert [row.split(", ") for row in rows] == [s["tracking_numbers"] for s in EXPECTED_DEFAULT]

    # October, after a September with nothing: three noise complaints from none is a rise;
    # its two road cases (R0 on the 1st in China, R1 on the 2nd) are not.
    october = client.get(URL, params={"from": "2026-10-01", "to": "2026-10-31"})
    assert october.json()["hot_spots"] == [
        {
            "category": "噪声",
            "kind": "complaint",
            "township": "城关镇",
            "village": "东街社区",
            "cases": 3,
            "previous_cases": 0,
            "reasons": ["rising"],
            "tracking_numbers": ["2026HS-N0", "2026HS-N1", "2026HS-N2"],
        }
    ]


BAD_PARAMETERS = [
    ({"to": "2026-11-30"}, ["query.from"]),
    ({"from": "2026-11-31", "to": "2026-12-01"}, ["query.from"]),
    ({"from": "2026-11-30", "to": "2026-11-01"}, ["query.to"]),
    ({"from": "2025-01-01", "to": "2026-11-30"}, ["query.to"]),
    ({**NOVEMBER, "min_cases": 1}, ["query.min_cases"]),
    ({**NOVEMBER, "min_cases": "many"}, ["query.min_cases"]),
    ({**NOVEMBER, "min_cases": 1001}, ["query.min_cases"]),
    ({**NOVEMBER, "village": "王家村"}, ["query.village"]),
]


def test_bad_parameters_get_a_422_naming_each_field(tmp_path: Path) -> None:
    # Refused before any database is touched: SQLite's default, never migrated, is enough.
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(
        build_app([ServiceRuntime(reporting.SERVICE, settings)]),
        headers=reader(settings.secret_key),
    )
    for params, fields in BAD_PARAMETERS:
        response = client.get(URL, params=params, headers={"Accept-Language": "en"})
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["detail"]] == fields, params
    backwards = client.get(URL, params={"from": "2026-11-30", "to": "2026-11-01"})
    assert backwards.json()["detail"][0]["message"] == "不能早于开始日期"


def test_only_supervisors_and_admins_read_the_hot_spots(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(build_app([ServiceRuntime(reporting.SERVICE, settings)]))
    assert client.get(URL, params=NOVEMBER).status_code == 401
    handler = mint_token(
        Staff("h-1", "赵敏", frozenset({"handler"}), department_code="water"), settings.secret_key
    )
    refused = client.get(URL, params=NOVEMBER, headers={"Authorization": f"Bearer {handler}"})
    assert refused.status_code == 403
