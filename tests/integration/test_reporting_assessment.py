"""The assessment of a scripted month, its events put on the bus out of order, read through
`/api/v1/reports/assessment` from a running reporting service and checked against scores and
case links worked out by hand (`tests.assessment_history`)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services import reporting
from services.kernel.auth import Role, Staff, mint_token
from services.kernel.config import Settings, load_settings
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.reporting.assessment import RULES_VARIABLE
from services.reporting.models import CaseFact
from tests.assessment_history import (
    CASES,
    EXPECTED_DEPARTMENTS,
    EXPECTED_EDU,
    EXPECTED_OFFICIALS,
    EXPECTED_WATER_CASES,
    EXPECTED_ZHANG_B,
    at,
    history,
    submitted,
)
from tests.support import publish_envelopes, start_runtimes, wait_until

pytestmark = pytest.mark.integration

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
URL = "/api/v1/reports/assessment"


def token(secret_key: str, *roles: Role, department: str | None = None) -> dict[str, str]:
    staff = Staff("sv-1", "李强", frozenset(roles), department_code=department)
    return {"Authorization": f"Bearer {mint_token(staff, secret_key)}"}


def ranking(entries: list[dict[str, Any]], key: str) -> list[tuple[Any, ...]]:
    return [
        (
            e["rank"],
            e[key],
            e["name"],
            e["total"],
            {r["rule"]: r["points"] for r in e["rules"]},
        )
        for e in entries
    ]


def rule(detail: dict[str, Any], rule_id: str) -> dict[str, Any]:
    (found,) = [r for r in detail["rules"] if r["rule"] == rule_id]
    return found


@pytest.fixture
def month(settings: Settings, running: list[ServiceRuntime]) -> TestClient:
    """A reporting service that has taken in the month, and a client with no token."""
    (runtime,) = start_runtimes(settings, running, reporting.SERVICE)
    events = history()
    random.Random(3).shuffle(events)
    # One queue, one consumer, in order: once the last case is in, everything before it is.
    publish_envelopes(settings.broker_url, [*events, submitted("Z", at(12, 5))])

    def arrived() -> bool:
        with runtime.database.session() as session:
            return session.get(CaseFact, CASES["Z"]) is not None

    wait_until(arrived, 20)
    return TestClient(build_app([runtime]))


def test_departments_and_officials_are_ranked_by_the_scores_worked_out_by_hand(
    settings: Settings, month: TestClient
) -> None:
    response = month.get(URL, params=NOVEMBER, headers=token(settings.secret_key, "supervisor"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == NOVEMBER
    assert [r["id"] for r in body["rules"]] == [
        "on-time",
        "late",
        "satisfaction",
        "returns",
        "rehandles",
        "revisits",
    ]
    assert ranking(body["departments"], "code") == EXPECTED_DEPARTMENTS
    assert ranking(body["officials"], "id") == EXPECTED_OFFICIALS
    assert body["departments"][0]["detail"] == (
        f"{URL}/departments/water?from=2026-11-01&to=2026-11-30"
    )


def test_every_point_links_to_its_rule_and_the_cases_and_facts_that_earned_it(
    settings: Settings, month: TestClient
) -> None:
    headers = token(settings.secret_key, "admin")
    water = month.get(f"{URL}/departments/water", params=NOVEMBER, headers=headers)
    assert water.status_code == 200, water.text
    detail = water.json()
    assert (detail["code"], detail["name"], detail["total"]) == ("water", "水务局", 59)
    assert [
        (r["rule"], r["points"], [(c["tracking_no"], c["points"], c["fact"]) for c in r["cases"]])
        for r in detail["rules"]
    ] == EXPECTED_WATER_CASES
    on_time = rule(detail, "on-time")
    assert (on_time["looked_at"], on_time["met"], on_time["rate"]) == (3, 2, pytest.approx(2 / 3))
    assert on_time["cases"][0]["details"]["working_days_late"] == 4
    assert on_time["cases"][0]["fact_zh"] == (
        "2026-11-16 办结，超过办理期限 2026-11-10 共 6 天（4 个工作日）"
    )

    zhang = month.get(f"{URL}/officials/gb-01", params=NOVEMBER, headers=headers).json()
    assert (zhang["id"], zhang["name"], zhang["total"]) == ("gb-01", "张伟", 30)
    for rule_id, (points, fact) in EXPECTED_ZHANG_B.items():
        (b,) = [c for c in rule(zhang, rule_id)["cases"] if c["tracking_no"] == "202611-B"]
        assert (b["points"], b["fact"]) == (points, fact), rule_id
    # Every point adds up to the total, rule by rule and case by case.
    for subject in (detail, zhang):
        assert sum(r["points"] for r in subject["rules"]) == pytest.approx(subject["total"])
        for r in subject["rules"]:
            if not r["capped"]:
                assert sum(c["points"] for c in r["cases"]) == pytest.approx(r["points"])

    unknown = month.get(f"{URL}/departments/land", params=NOVEMBER, headers=headers)
    assert unknown.status_code == 404


def test_a_department_that_only_returned_a_case_is_ranked_on_that_return_alone(
    settings: Settings, month: TestClient
) -> None:
    headers = token(settings.secret_key, "supervisor")
    body = month.get(URL, params=NOVEMBER, headers=headers).json()
    (edu,) = [d for d in body["departments"] if d["code"] == "edu"]
    assert (edu["rank"], edu["total"]) == (3, -1)
    assert edu["detail"] == f"{URL}/departments/edu?from=2026-11-01&to=2026-11-30"
    detail = month.get(edu["detail"], headers=headers)
    assert detail.status_code == 200, detail.text
    found = detail.json()
    assert (found["code"], found["name"], found["total"]) == ("edu", "edu", -1)
    assert {
        r["rule"]: (
            r["points"],
            [(c["tracking_no"], c["points"], c["fact"], c["fact_zh"]) for c in r["cases"]],
        )
        for r in found["rules"]
    } == EXPECTED_EDU
    # B's resolution, rating and re-handle are trans's: no rule but returns looked at it.
    assert {r["rule"]: r["looked_at"] for r in found["rules"]} == {
        "on-time": 0,
        "late": 0,
        "satisfaction": 0,
        "returns": 1,
        "rehandles": 0,
        "revisits": 0,
    }
    assert rule(found, "returns")["cases"][0]["details"] == {"returns": 1, "returned_by": "edu"}


def test_a_co_handling_departments_return_counts_against_it_not_the_lead(
    settings: Settings, month: TestClient
) -> None:
    headers = token(settings.secret_key, "admin")
    water = month.get(f"{URL}/departments/water", params=NOVEMBER, headers=headers).json()
    (h,) = rule(water, "returns")["cases"]
    assert (h["tracking_no"], h["points"], h["fact"], h["fact_zh"]) == (
        "202611-H",
        -1,
        "returned once by 水务局",
        "被 水务局 退单 1 次",
    )
    trans = month.get(f"{URL}/departments/trans", params=NOVEMBER, headers=headers).json()
    returns = rule(trans, "returns")
    # trans holds A, B, E, G and H, all dispatched in November; it returned none of them.
    assert (returns["points"], returns["looked_at"], returns["met"], returns["cases"]) == (
        0,
        5,
        0,
        [],
    )


def test_a_department_head_sees_their_own_department_only(
    settings: Settings, month: TestClient
) -> None:
    head = token(settings.secret_key, "supervisor", department="water")
    own = month.get(URL, params=NOVEMBER, headers=head).json()
    # The whole of water's assessment, H it returned included, and nobody else's.
    assert ranking(own["departments"], "code") == [(1, *EXPECTED_DEPARTMENTS[0][1:])]
    assert own["officials"] == []
    assert month.get(f"{URL}/departments/water", params=NOVEMBER, headers=head).status_code == 200
    for other in ("departments/trans", "officials/gb-02"):
        assert month.get(f"{URL}/{other}", params=NOVEMBER, headers=head).status_code == 403
    # A department holding no case still sees the returns it made.
    edu_head = token(settings.secret_key, "supervisor", department="edu")
    edu = month.get(URL, params=NOVEMBER, headers=edu_head).json()
    assert ranking(edu["departments"], "code") == [(1, *EXPECTED_DEPARTMENTS[2][1:])]


HARSH_RULES = """
[[rule]]
id = "late-cases"
name = "超期办结"
name_en = "Resolved late"
cases = "resolved-with-deadline"
when = "late"
points = -5
applies_to = ["department"]
"""


def test_the_rules_file_the_environment_names_is_the_one_scored_by(
    settings: Settings, month: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(HARSH_RULES, encoding="utf-8")
    monkeypatch.setenv(RULES_VARIABLE, str(rules))
    body = month.get(URL, params=NOVEMBER, headers=token(settings.secret_key, "admin")).json()
    assert [r["id"] for r in body["rules"]] == ["late-cases"]
    # One late case each: B for trans, C for water; equal totals share the rank. edu returned B
    # but resolved nothing: a rule on lateness does not look at it.
    assert ranking(body["departments"], "code") == [
        (1, "trans", "交通运输局", -5, {"late-cases": -5}),
        (1, "water", "水务局", -5, {"late-cases": -5}),
    ]
    assert body["officials"] == []


BAD_PARAMETERS = [
    (URL, {"to": "2026-11-30"}, ["query.from"]),
    (URL, {"from": "2026-11-31", "to": "2026-12-01"}, ["query.from"]),
    (URL, {"from": "2026-11-30", "to": "2026-11-01"}, ["query.to"]),
    (URL, {"from": "2025-01-01", "to": "2026-11-30"}, ["query.to"]),
    (URL, {**NOVEMBER, "department": "trans"}, ["query.department"]),
    (f"{URL}/departments/{'x' * 41}", NOVEMBER, ["path.code"]),
    (f"{URL}/officials/{'x' * 65}", {"from": "2026-11-01"}, ["path.official_id", "query.to"]),
]


def test_bad_parameters_get_a_422_naming_each_field(tmp_path: Path) -> None:
    # Refused before any database is touched: SQLite's default, never migrated, is enough.
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(
        build_app([ServiceRuntime(reporting.SERVICE, settings)]),
        headers=token(settings.secret_key, "supervisor"),
    )
    for url, params, fields in BAD_PARAMETERS:
        response = client.get(url, params=params, headers={"Accept-Language": "en"})
        assert response.status_code == 422, (url, params)
        assert [error["field"] for error in response.json()["detail"]] == fields, (url, params)
    backwards = client.get(URL, params={"from": "2026-11-30", "to": "2026-11-01"})
    assert backwards.json()["detail"][0]["message"] == "不能早于开始日期"


def test_only_supervisors_and_admins_read_the_assessment(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    client = TestClient(build_app([ServiceRuntime(reporting.SERVICE, settings)]))
    for url in (URL, f"{URL}/departments/water", f"{URL}/officials/gb-01"):
        assert client.get(url, params=NOVEMBER).status_code == 401
        handler = token(settings.secret_key, "handler", department="water")
        assert client.get(url, params=NOVEMBER, headers=handler).status_code == 403
