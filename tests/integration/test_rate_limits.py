"""Too many submissions from one address or one phone get a 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services import intake
from services.intake.models import Case
from services.kernel.config import load_settings
from services.kernel.migrations import upgrade
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import case_payload


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[ServiceRuntime]:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_RATE_LIMIT_PER_IP": "4/minute",
            "MINQING_RATE_LIMIT_PER_PHONE": "2/hour",
        }
    )
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


def cases(runtime: ServiceRuntime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def with_phone(phone: str) -> dict[str, object]:
    return {**case_payload(), "contact": {"phone": phone}}


def test_a_phone_number_over_its_limit_is_refused_with_the_wait(runtime: ServiceRuntime) -> None:
    client = TestClient(build_app([runtime]))
    for _ in range(2):
        assert client.post("/api/v1/cases", json=with_phone("13812345678")).status_code == 201
    refused = client.post("/api/v1/cases", json=with_phone("+86 138 1234 5678"))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 1800
    [error] = refused.json()["detail"]
    assert error["field"] == "contact.phone"
    assert error["type"] == "rate_limited"
    assert error["message"].startswith("该手机号码提交过于频繁，请")
    assert cases(runtime) == 2
    assert client.post("/api/v1/cases", json=with_phone("13912345678")).status_code == 201


def test_an_address_over_its_limit_is_refused_whatever_the_phone(runtime: ServiceRuntime) -> None:
    client = TestClient(build_app([runtime]))
    phones = ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"]
    statuses = [client.post("/api/v1/cases", json=with_phone(p)).status_code for p in phones]
    assert statuses == [201, 201, 201, 201, 429]
    assert cases(runtime) == 4


def test_an_address_that_keeps_guessing_access_codes_is_refused_even_the_right_one(
    runtime: ServiceRuntime,
) -> None:
    client = TestClient(build_app([runtime]))
    case = client.post("/api/v1/cases", json=with_phone("13812345678")).json()
    url = f"/api/v1/cases/{case['tracking_no']}"
    for _ in range(5):
        assert client.get(url, params={"access_code": case["access_code"]}).status_code == 200
    wrong = [client.get(url, params={"access_code": "WRONG1"}).status_code for _ in range(30)]
    assert wrong == [404] * 30
    refused = client.get(url, params={"access_code": case["access_code"]})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["detail"][0]["field"] == "access_code"
