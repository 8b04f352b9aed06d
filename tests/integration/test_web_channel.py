"""The web channel refuses bad input field by field and records nothing for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services import intake
from services.intake.models import Case
from services.kernel.config import load_settings
from services.kernel.http import MAX_BODY_BYTES
from services.kernel.migrations import upgrade
from services.kernel.outbox import outbox
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import case_payload


@pytest.fixture
def intake_runtime(tmp_path: Path) -> Iterator[ServiceRuntime]:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def client(intake_runtime: ServiceRuntime) -> TestClient:
    # English, to match the messages below; Chinese, the default, is tested on its own.
    return TestClient(build_app([intake_runtime]), headers={"Accept-Language": "en"})


def recorded(runtime: ServiceRuntime) -> tuple[int, int]:
    with runtime.database.session() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        events = session.scalar(select(func.count()).select_from(outbox)) or 0
    return cases, events


def errors_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["detail"]}


def test_a_valid_case_is_accepted_with_its_tracking_details(
    client: TestClient, intake_runtime: ServiceRuntime
) -> None:
    response = client.post("/api/v1/cases", json=case_payload())
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received"
    assert len(body["access_code"]) == 6
    assert recorded(intake_runtime) == (1, 1)
    view = client.get(
        f"/api/v1/cases/{body['tracking_no']}", params={"access_code": body["access_code"]}
    )
    assert view.status_code == 200
    assert view.json()["timeline"][0]["label"] == "已受理"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"description": ""}, "description", "at least 1 character"),
        ({"description": "   "}, "description", "at least 1 character"),
        ({"description": "长" * 5001}, "description", "at most 5000 characters"),
        ({"kind": "rant"}, "kind", "'consultation'"),
        ({"contact": {"phone": "12345"}}, "contact.phone", "mainland China mobile"),
        ({"contact": {"phone": "010-12345678"}}, "contact.phone", "mainland China mobile"),
        ({"contact": {"email": "not-an-address"}}, "contact.email", "email address"),
        ({"contact": {"name": "张三"}}, "contact", "mobile phone number or an email"),
        ({"location": {"lat": 91, "lon": 120}}, "location.lat", "less than or equal to 90"),
        ({"location": {"lat": 29.3}}, "location", "lat and lon go together"),
        ({"category": "x" * 65}, "category", "at most 64 characters"),
        ({"priority": "high"}, "priority", "Extra inputs are not permitted"),
    ],
)
def test_bad_fields_get_a_422_naming_the_field_and_nothing_is_recorded(
    client: TestClient,
    intake_runtime: ServiceRuntime,
    change: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    errors = errors_of(client.post("/api/v1/cases", json={**case_payload(), **change}))
    assert field in errors, errors
    assert reason in errors[field]
    assert recorded(intake_runtime) == (0, 0)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("description", "Field required"),
        ("kind", "Field required"),
        ("contact", "give a mobile phone number or an email address so we can reply"),
    ],
)
def test_missing_required_fields_are_named(client: TestClient, missing: str, message: str) -> None:
    payload = case_payload()
    del payload[missing]
    assert errors_of(client.post("/api/v1/cases", json=payload))[missing] == message


def test_malformed_json_is_a_422_and_records_nothing(
    client: TestClient, intake_runtime: ServiceRuntime
) -> None:
    response = client.post(
        "/api/v1/cases",
        content=b'{"description": "x", ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert recorded(intake_runtime) == (0, 0)


def test_an_oversized_body_is_refused_before_it_is_read(
    client: TestClient, intake_runtime: ServiceRuntime
) -> None:
    payload = case_payload(description="长" * MAX_BODY_BYTES)
    response = client.post("/api/v1/cases", json=payload)
    assert response.status_code == 413
    assert response.json()["detail"][0]["field"] == "body"
    assert recorded(intake_runtime) == (0, 0)


def test_a_wrong_access_code_looks_exactly_like_an_unknown_case(client: TestClient) -> None:
    accepted = client.post("/api/v1/cases", json=case_payload()).json()
    wrong = client.get(f"/api/v1/cases/{accepted['tracking_no']}", params={"access_code": "ZZZZZZ"})
    unknown = client.get("/api/v1/cases/20000101-000001", params={"access_code": "ZZZZZZ"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_phone_numbers_are_stored_normalised(
    client: TestClient, intake_runtime: ServiceRuntime
) -> None:
    client.post("/api/v1/cases", json=case_payload(contact={"phone": "+86 138-1234-5678"}))
    with intake_runtime.database.session() as session:
        assert session.scalars(select(Case.contact_phone)).one() == "13812345678"


def test_errors_are_in_chinese_unless_english_is_asked_for(
    intake_runtime: ServiceRuntime,
) -> None:
    app = build_app([intake_runtime])
    bad = {**case_payload(), "description": "", "contact": {"phone": "12345"}}
    default = errors_of(TestClient(app).post("/api/v1/cases", json=bad))
    assert default == {
        "description": "至少需要 1 个字符",
        "contact.phone": "请填写中国大陆手机号码：以 1 开头的 11 位数字",
    }
    prefers_english = TestClient(app, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    english = errors_of(prefers_english.post("/api/v1/cases", json=bad))
    assert "mainland China mobile" in english["contact.phone"]
    chinese_first = TestClient(app, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert errors_of(chinese_first.post("/api/v1/cases", json=bad)) == default
    assert recorded(intake_runtime) == (0, 0)


def test_an_idempotent_retry_works_on_the_embedded_database_too(
    client: TestClient, intake_runtime: ServiceRuntime
) -> None:
    # The first submission of a fresh database must reserve tracking numbers; on SQLite that
    # reservation once waited for the write lock its own request held (the idempotency claim).
    headers = {"Idempotency-Key": "first-of-the-day"}
    first = client.post("/api/v1/cases", json=case_payload(), headers=headers)
    again = client.post("/api/v1/cases", json=case_payload(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert recorded(intake_runtime) == (1, 1)
