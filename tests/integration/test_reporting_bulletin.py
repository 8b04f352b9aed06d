"""The bulletin from a running reporting service: the scripted month's events on the bus, read
back as text, page, PDF and spreadsheets; stored on demand and by Celery beat; listed and
downloaded; written by `minqing reporting bulletin`."""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from services import reporting
from services.kernel.auth import Staff, mint_token
from services.kernel.config import Settings, load_settings
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.reporting.bulletin.gather import gather
from services.reporting.bulletin.periods import due
from services.reporting.bulletin.publishing import publish_due
from services.reporting.bulletin.store import add_once, stored
from services.reporting.bulletin.tasks import register_tasks
from services.reporting.models import CaseFact
from tests.reporting_history import CASES, at, history, rated, submitted
from tests.support import (
    MINQING,
    REPO,
    base_env,
    publish_envelopes,
    start_runtimes,
    wait_until,
)
from tests.unit.test_bulletin_text import NOVEMBER_EN, NOVEMBER_ZH

pytestmark = pytest.mark.integration

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def reader(secret_key: str) -> dict[str, str]:
    supervisor = Staff("sv-1", "李强", frozenset({"supervisor"}))
    return {"Authorization": f"Bearer {mint_token(supervisor, secret_key)}"}


def the_month_on_the_bus(settings: Settings, runtime: ServiceRuntime) -> None:
    # One queue, one consumer, in order: once the last case is in, everything before it is.
    publish_envelopes(settings.broker_url, [*history(), submitted("Z", at(12, 5))])

    def arrived() -> bool:
        with runtime.database.session() as session:
            return session.get(CaseFact, CASES["Z"]) is not None

    wait_until(arrived, 20)


def test_the_month_s_bulletin_in_every_format(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    the_month_on_the_bus(settings, runtime)
    client = TestClient(build_app([runtime]), headers=reader(settings.secret_key))
    url = "/api/v1/reports/bulletin"

    text = client.get(url, params=NOVEMBER)
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == NOVEMBER_ZH
    assert client.get(url, params={**NOVEMBER, "lang": "en"}).text == NOVEMBER_EN
    english = client.get(url, params=NOVEMBER, headers={"Accept-Language": "en"})
    assert english.text == NOVEMBER_EN

    page = client.get(url, params={**NOVEMBER, "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "本期共受理群众诉求7件" in page.text
    assert page.text.count("<svg") == 4
    assert "format=pdf" in page.text

    pdf = client.get(url, params={**NOVEMBER, "format": "pdf", "lang": "en"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="bulletin-2026-11-01-2026-11-30.pdf"' in pdf.headers["content-disposition"]
    printed = "".join(page.get_text() for page in pymupdf.open(stream=pdf.content))
    assert "7 requests received: 1 hotline call, 1 email, 5 web requests." in printed

    table = client.get(url, params={**NOVEMBER, "format": "csv", "lang": "en"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert ["figures", "received", "received", "7"] in rows
    assert ["channel", "web", "web", "5"] in rows

    book = client.get(url, params={**NOVEMBER, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    assert ["指标", "resolved", "办结", 4] in [[c.value for c in r] for r in sheet.iter_rows()]

    cases = client.get("/api/v1/reports/cases.csv", params={**NOVEMBER, "lang": "en"})
    listed = list(csv.reader(io.StringIO(cases.content.decode("utf-8-sig"))))
    assert listed[0][:2] == ["tracking number", "channel"]
    assert [row[0] for row in listed[1:]] == [f"202611-{c}" for c in "ABCDIEG"]
    assert "13700000000" not in cases.text
    spreadsheet = client.get("/api/v1/reports/cases.xlsx", params=NOVEMBER)
    cases_sheet = load_workbook(io.BytesIO(spreadsheet.content)).active
    assert cases_sheet is not None
    assert cases_sheet.max_row == 8


def test_a_stored_bulletin_keeps_what_it_said_when_later_events_change_the_figures(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    the_month_on_the_bus(settings, runtime)
    client = TestClient(build_app([runtime]), headers=reader(settings.secret_key))

    made = client.post("/api/v1/reports/bulletins", json=NOVEMBER)
    assert made.status_code == 201, made.text
    stored = made.json()
    assert (stored["kind"], stored["first"], stored["last"]) == (
        "on-demand",
        "2026-11-01",
        "2026-11-30",
    )

    # E's rating of 25 November arrives late: the live bulletin counts it, the stored one not.
    publish_envelopes(settings.broker_url, [rated("E", at(11, 25), "satisfied")])
    late = {**NOVEMBER, "lang": "en"}
    wait_until(
        lambda: "satisfaction rate 75%" in client.get("/api/v1/reports/bulletin", params=late).text
    )
    again = client.get(stored["links"]["text"])
    assert again.text == NOVEMBER_ZH
    assert client.get(stored["links"]["text"], params={"lang": "en"}).text == NOVEMBER_EN
    pdf = client.get(stored["links"]["pdf"])
    assert pdf.content.startswith(b"%PDF")
    page = client.get(stored["links"]["html"])
    assert "满意率66.7%" in page.text
    assert page.text.count("<svg") == 4

    # Beat may have stored last week's and last month's bulletins meanwhile: those are its own.
    listed = client.get("/api/v1/reports/bulletins")
    on_demand = [item["id"] for item in listed.json() if item["kind"] == "on-demand"]
    assert on_demand == [stored["id"]]
    missing = "/api/v1/reports/bulletins/00000000-0000-0000-0000-000000000000"
    assert client.get(missing).status_code == 404


def test_celery_beat_stores_last_week_s_and_last_month_s_bulletins_once(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    scheduled = dataclasses.replace(reporting.SERVICE, setup=register_tasks, uses_celery=True)
    (runtime,) = start_runtimes(settings, running, scheduled)
    client = TestClient(build_app([runtime]), headers=reader(settings.secret_key))
    now = datetime.now(UTC)
    expected = {(key.partition(":")[0], period.first.isoformat()) for key, period in due(now)}

    def listed() -> set[tuple[str, str]] | None:
        found = {(b["kind"], b["first"]) for b in client.get("/api/v1/reports/bulletins").json()}
        return found if len(found) == 2 else None

    # Beat sends the task once at start-up, then every quarter of an hour.
    assert wait_until(listed, 30) == expected
    # Asking again stores nothing more; a process that lost the race to store the same
    # period is refused by the key, and its transaction goes on.
    with runtime.work() as work:
        assert publish_due(work.session, now) == []
        (key, period), _ = due(now)
        bulletin = gather(work.session, period)
        assert add_once(work.session, stored("weekly", bulletin, now, key)) is False
        assert add_once(work.session, stored("weekly", bulletin, now)) is True
    assert len(client.get("/api/v1/reports/bulletins").json()) == 3


BAD_PARAMETERS = [
    ({"to": "2026-11-30"}, ["query.from"]),
    ({"from": "2026-11-30", "to": "2026-11-01"}, ["query.to"]),
    ({"from": "2025-01-01", "to": "2026-11-30"}, ["query.to"]),
    ({**NOVEMBER, "format": "doc", "lang": "fr"}, ["query.format", "query.lang"]),
    ({**NOVEMBER, "channel": "web"}, ["query.channel"]),
]


def test_bad_parameters_get_a_422_naming_each_field(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(
        build_app([ServiceRuntime(reporting.SERVICE, settings)]),
        headers={**reader(settings.secret_key), "Accept-Language": "en"},
    )
    for params, fields in BAD_PARAMETERS:
        response = client.get("/api/v1/reports/bulletin", params=params)
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["detail"]] == fields, params
    cases = client.get("/api/v1/reports/cases.csv", params={"from": "2026-11-30", "to": "x"})
    assert [error["field"] for error in cases.json()["detail"]] == ["query.to"]
    body = client.post("/api/v1/reports/bulletins", json={"from": "2026-11-30"})
    assert [error["field"] for error in body.json()["detail"]] == ["to"]


def test_only_supervisors_and_admins_read_bulletins(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(build_app([ServiceRuntime(reporting.SERVICE, settings)]))
    operator = mint_token(Staff("op-1", "王丽", frozenset({"operator"})), settings.secret_key)
    as_operator = {"Authorization": f"Bearer {operator}"}
    for url in (
        "/api/v1/reports/bulletin",
        "/api/v1/reports/cases.csv",
        "/api/v1/reports/cases.xlsx",
        "/api/v1/reports/bulletins",
    ):
        assert client.get(url, params=NOVEMBER).status_code == 401, url
        assert client.get(url, params=NOVEMBER, headers=as_operator).status_code == 403, url
    assert client.post("/api/v1/reports/bulletins", json=NOVEMBER).status_code == 401


def test_the_command_writes_the_bulletin_to_a_file(
    settings: Settings,
    running: list[ServiceRuntime],
    tmp_path: Path,
    postgres_url: str,
    amqp_url: str,
) -> None:
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    the_month_on_the_bus(settings, runtime)
    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(settings.data_dir),
    )

    def minqing(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [*MINQING, "reporting", "bulletin", *flags]
        return subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=60
        )

    out = tmp_path / "november.pdf"
    period = ["--from", "2026-11-01", "--to", "2026-11-30"]
    written = minqing(*period, "--format", "pdf", "--out", str(out))
    assert written.returncode == 0, written.stderr
    printed = "".join(page.get_text() for page in pymupdf.open(out))
    assert "本期共受理群众诉求7件" in printed

    english = minqing(*period, "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert english.stdout == NOVEMBER_EN + "\n"
    backwards = minqing("--from", "2026-11-30", "--to", "2026-11-01")
    assert backwards.returncode == 2
    assert "--to must not be before --from" in backwards.stderr
    # The projections are untouched: a bulletin is never a rebuild.
    assert english.stdout == minqing(*period, "--lang", "en").stdout
