"""The KPIs of a scripted month, its events put on the bus out of order and some twice, read
through `/api/v1/reports/kpis` from a running reporting service and checked against figures
worked out by hand (`tests.reporting_history`)."""

from __future__ import annotations

import random
import runpy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import reporting
from services.kernel.auth import Staff, mint_token
from services.kernel.config import Settings, load_settings
from services.kernel.events.contracts import MessageSent
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.reporting.models import CaseFact, MessageFact
from tests.reporting_history import (
    CASES,
    EXPECTED,
    EXPECTED_CHENGGUAN,
    EXPECTED_EMAILED_COMPLAINTS,
    EXPECTED_LIJIA_VILLAGE_WIDE,
    EXPECTED_TRANS,
    MESSAGES,
    approx,
    at,
    history,
    message,
    messages,
    submitted,
)
from tests.support import (
    AMQP_URL,
    POSTGRES_URL,
    publish_envelopes,
    start_runtimes,
    wait_until,
)

pytestmark = pytest.mark.integration

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def fact(runtime: ServiceRuntime, letter: str) -> CaseFact | None:
    with runtime.database.session() as session:
        found = session.get(CaseFact, CASES[letter])
        if found is not None:
            session.expunge(found)
        return found


def message_fact(runtime: ServiceRuntime, number: int) -> MessageFact | None:
    with runtime.database.session() as session:
        return session.get(MessageFact, MESSAGES[number])


def test_a_month_of_events_out_of_order_and_twice_gives_the_kpis_worked_out_by_hand(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    events = [*history(), *messages()]
    # Out of order: B's first resolution, extension and latest assignment each before the event
    # they must win over (this seed's order), and many steps before their case's submission.
    random.Random(9).shuffle(events)
    once = {event.type: event for event in events}
    # A copy right behind the first lands in the same batch; the consumer must apply it once.
    twice = ("case.urged", "message.sent")
    twice_in_a_row = [e for e in events for _ in range(2 if e.type in twice else 1)]
    # Copies long after, as a replay would send them.
    late = [
        once["case.returned"],
        once["case.supervised"],
        once["case.submitted"],
        once["message.sent"],
        once["message.delivered"],
    ]
    # One queue per handler, one consumer each, in order: once the last case and the last
    # message are in, everything before them is.
    last = [submitted("Z", at(12, 5)), message(MessageSent, 0, "Z", at(12, 5))]
    publish_envelopes(settings.broker_url, [*twice_in_a_row, *late, *last])
    wait_until(lambda: fact(runtime, "Z") is not None, 20)
    wait_until(lambda: message_fact(runtime, 0) is not None, 20)

    c, b = fact(runtime, "C"), fact(runtime, "B")
    assert c is not None
    assert b is not None
    assert (c.urges, c.supervisions, b.returns, b.rehandles) == (2, 1, 1, 1)

    client = TestClient(build_app([runtime]), headers=reader(settings.secret_key))
    for extra, expected in (
        ({}, EXPECTED),
        ({"department": "trans"}, EXPECTED_TRANS),
        ({"channel": "email", "kind": "complaint"}, EXPECTED_EMAILED_COMPLAINTS),
        ({"township": "城关镇"}, EXPECTED_CHENGGUAN),
        ({"village": "李家村", "scope_level": "village"}, EXPECTED_LIJIA_VILLAGE_WIDE),
    ):
        response = client.get("/api/v1/reports/kpis", params={**NOVEMBER, **extra})
        assert response.status_code == 200, response.text
        assert response.json() == approx(expected), extra

    # Open to all, as dashboards and scripts read it; a period counts its submissions only.
    anyone = TestClient(build_app([runtime]))
    everything = anyone.get("/api/v1/reports/summary", params={"_": "cache-buster"})
    assert everything.status_code == 200, everything.text
    assert everything.json()["total"] == 10
    month = anyone.get("/api/v1/reports/summary", params=NOVEMBER).json()
    assert (month["total"], month["by_department"]) == (7, {"trans": 3, "water": 1})


BAD_PARAMETERS = [
    ({"to": "2026-11-30"}, ["query.from"]),
    ({"from": "2026-11-31", "to": "2026-12-01"}, ["query.from"]),
    ({"from": "2026-11-30", "to": "2026-11-01"}, ["query.to"]),
    ({"from": "2025-01-01", "to": "2026-11-30"}, ["query.to"]),
    ({**NOVEMBER, "channel": "fax", "kind": "rumour"}, ["query.channel", "query.kind"]),
    ({**NOVEMBER, "department": ""}, ["query.department"]),
    ({**NOVEMBER, "dept": "trans"}, ["query.dept"]),
    (
        {**NOVEMBER, "scope_level": "county", "township": ""},
        ["query.township", "query.scope_level"],
    ),
    ({**NOVEMBER, "village": "村" * 41}, ["query.village"]),
]

BAD_SUMMARY_PARAMETERS = [
    ({"from": "2026-11-01"}, ["query.to"]),
    ({"to": "2026-11-30"}, ["query.from"]),
    ({"from": "2026-11-30", "to": "2026-11-01"}, ["query.to"]),
    ({"from": "2026-11-31", "to": "2026-12-01"}, ["query.from"]),
]


def test_bad_parameters_get_a_422_naming_each_field(tmp_path: Path) -> None:
    # Refused before any database is touched: SQLite's default, never migrated, is enough.
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(
        build_app([ServiceRuntime(reporting.SERVICE, settings)]),
        headers=reader(settings.secret_key),
    )
    for params, fields in BAD_PARAMETERS:
        response = client.get(
            "/api/v1/reports/kpis", params=params, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["detail"]] == fields, params
    backwards = client.get(
        "/api/v1/reports/kpis", params={"from": "2026-11-30", "to": "2026-11-01"}
    )
    assert backwards.json()["detail"][0]["message"] == "不能早于开始日期"
    for params, fields in BAD_SUMMARY_PARAMETERS:
        response = client.get(
            "/api/v1/reports/summary", params=params, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["detail"]] == fields, params


def test_only_supervisors_and_admins_read_the_kpis(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(build_app([ServiceRuntime(reporting.SERVICE, settings)]))
    url = "/api/v1/reports/kpis"
    assert client.get(url, params=NOVEMBER).status_code == 401
    operator = mint_token(Staff("op-1", "王丽", frozenset({"operator"})), settings.secret_key)
    refused = client.get(url, params=NOVEMBER, headers={"Authorization": f"Bearer {operator}"})
    assert refused.status_code == 403


def reader(secret_key: str) -> dict[str, str]:
    supervisor = Staff("sv-1", "李强", frozenset({"supervisor"}))
    return {"Authorization": f"Bearer {mint_token(supervisor, secret_key)}"}


def test_the_reporting_bench_runs_on_a_small_county(capsys: pytest.CaptureFixture[str]) -> None:
    """`minqing bench reporting` in miniature, so that it cannot rot unnoticed."""
    path = Path(__file__).parents[2] / "bench" / "reporting.py"
    main = runpy.run_path(str(path), run_name="minqing_bench_reporting")["main"]
    flags = ["--cases", "3000", "--events", "240", "--rebuild-events", "240", "--repeats", "1"]
    assert main([*flags, "--postgres-url", POSTGRES_URL, "--amqp-url", AMQP_URL]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("loaded 3,000 cases and ")
    last = dict(pair.split("=") for pair in lines[-1].split())
    assert list(last) == [
        "kpi_p50_ms",
        "kpi_p99_ms",
        "kpi_max_ms",
        "kpi_pass",
        "projection_events_per_s",
        "rebuild_seconds",
    ]
    assert float(last["projection_events_per_s"]) > 0
    assert float(last["rebuild_seconds"]) > 0
