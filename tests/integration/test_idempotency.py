"""Submitting the same case twice with one Idempotency-Key gives one case, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from services import intake
from services.intake.idempotency import accept_once, purge_expired
from services.intake.models import Case, IdempotencyKey
from services.intake.submissions import Receipt, Submission
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.events.contracts import Contact
from services.kernel.outbox import outbox
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import case_payload

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime(settings: Settings) -> Iterator[ServiceRuntime]:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def client(runtime: ServiceRuntime) -> TestClient:
    # English, to match the messages below; Chinese, the default, is tested on its own.
    return TestClient(build_app([runtime]), headers={"Accept-Language": "en"})


def counts(runtime: ServiceRuntime) -> tuple[int, int]:
    with runtime.database.session() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        events = session.scalar(select(func.count()).select_from(outbox)) or 0
    return cases, events


def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_case(
    client: TestClient, runtime: ServiceRuntime
) -> None:
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = client.post("/api/v1/cases", json=case_payload(), headers=headers)
    again = client.post("/api/v1/cases", json=case_payload(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert counts(runtime) == (1, 1)
    # The access code is kept only sealed.
    with runtime.database.session() as session:
        sealed = session.scalars(select(IdempotencyKey.sealed_receipt)).one()
    assert sealed is not None
    assert first.json()["access_code"] not in sealed


def test_the_same_key_for_a_different_submission_is_refused_and_records_nothing(
    client: TestClient, runtime: ServiceRuntime
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/cases", json=case_payload(), headers=headers).status_code == 201
    other = client.post("/api/v1/cases", json=case_payload("另一件事：路灯坏了"), headers=headers)
    assert other.status_code == 422
    [error] = other.json()["detail"]
    assert error["field"] == "Idempotency-Key"
    assert "different submission" in error["message"]
    assert counts(runtime) == (1, 1)


def test_without_a_key_or_with_another_key_each_post_is_a_case(
    client: TestClient, runtime: ServiceRuntime
) -> None:
    client.post("/api/v1/cases", json=case_payload())
    client.post("/api/v1/cases", json=case_payload())
    client.post("/api/v1/cases", json=case_payload(), headers={"Idempotency-Key": "a"})
    client.post("/api/v1/cases", json=case_payload(), headers={"Idempotency-Key": "b"})
    assert counts(runtime) == (4, 4)


def test_an_overlong_key_is_a_field_error(client: TestClient, runtime: ServiceRuntime) -> None:
    response = client.post(
        "/api/v1/cases", json=case_payload(), headers={"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "header.Idempotency-Key"
    assert counts(runtime) == (0, 0)


def test_concurrent_submissions_with_one_key_make_one_case(
    runtime: ServiceRuntime, settings: Settings
) -> None:
    submission = Submission(
        "web", "complaint", "噪音扰民", None, None, Contact(phone="13812345678")
    )
    receipts: list[Receipt] = []
    lock = threading.Lock()

    def submit() -> None:
        with runtime.work() as work:
            receipt, _ = accept_once(work, submission, settings.secret_key, "same-key")
        with lock:
            receipts.append(receipt)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.tracking_no for r in receipts}) == 1
    assert len({r.access_code for r in receipts}) == 1
    assert counts(runtime) == (1, 1)


def test_keys_older_than_a_day_are_purged(client: TestClient, runtime: ServiceRuntime) -> None:
    client.post("/api/v1/cases", json=case_payload(), headers={"Idempotency-Key": "old"})
    client.post("/api/v1/cases", json=case_payload(), headers={"Idempotency-Key": "new"})
    with runtime.work() as work:
        work.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    with runtime.work() as work:
        purge_expired(work)
    with runtime.database.session() as session:
        assert list(session.scalars(select(IdempotencyKey.key))) == ["new"]
