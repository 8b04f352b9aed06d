"""Learned dispatch on the real broker and database: train, dispatch, suggest, retrain."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services import routing
from services.__main__ import main
from services.kernel.auth import Staff, mint_token
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseSubmitted
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.routing.classifier.model import Model
from services.routing.classifier.store import ModelCache, model_cache
from services.routing.classifier.tasks import RETRAIN
from services.routing.classifier.training import MIN_NEW_DECISIONS, retrain_if_due
from services.routing.models import ClassifierModel, WorkOrder
from tests.classifier_corpus import corpus
from tests.support import MINQING, REPO, base_env, publish_envelopes, submitted_event, wait_until

pytestmark = pytest.mark.integration

CATEGORY_OF = {"edu": "教育文体", "env": "环境保护", "transport": "交通运输"}
CONFIDENT = "化工厂晚上偷排污水，臭味废气很重"
MIXED = "学校门口的公交车站台和校车线路"


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test's settings also in the environment, where `minqing` commands read them."""
    monkeypatch.setenv("MINQING_BROKER_URL", settings.broker_url)
    monkeypatch.setenv(
        "MINQING_DATABASE_URL", settings.database_url("routing").replace("routing", "{service}")
    )
    monkeypatch.setenv("MINQING_SECRET_KEY", settings.secret_key)
    model_cache.clear()
    return settings


def training_file(tmp_path: Path, by_category: bool = True) -> Path:
    """The built corpus as `label<TAB>text`, labelled by category (the dev data's way)."""
    path = tmp_path / "training.tsv"
    lines = [f"{CATEGORY_OF[d] if by_category else d}\t{t}" for t, d in corpus()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(settings: Settings) -> list[ClassifierModel]:
    runtime_db = ServiceRuntime(routing.SERVICE, settings).database
    try:
        with runtime_db.session() as session:
            rows = list(session.scalars(select(ClassifierModel).order_by(ClassifierModel.version)))
            session.expunge_all()
            return rows
    finally:
        runtime_db.dispose()


def start_routing(settings: Settings, running: list[ServiceRuntime]) -> ServiceRuntime:
    runtime = ServiceRuntime(routing.SERVICE, settings)
    running.append(runtime)
    runtime.start()
    assert runtime.wait_ready()
    return runtime


def dispatched(runtime: ServiceRuntime, *events: CaseSubmitted) -> list[WorkOrder]:
    """Publish the cases as intake would; their work orders once routing has made them."""
    publish_envelopes(
        runtime.settings.broker_url,
        [e.envelope(producer="intake", case_id=e.case_id) for e in events],
    )
    ids = [e.case_id for e in events]

    def orders() -> list[WorkOrder] | None:
        with runtime.database.session() as session:
            found = {
                o.case_id: o
                for o in session.scalars(select(WorkOrder).where(WorkOrder.case_id.in_(ids)))
            }
            session.expunge_all()
        return [found[i] for i in ids] if len(found) == len(ids) else None

    result: list[WorkOrder] = wait_until(orders, timeout=30)
    return result


def client_as(runtime: ServiceRuntime, *roles: str) -> TestClient:
    staff = Staff(staff_id=str(uuid.uuid4()), name="李调度", roles=frozenset(roles))  # type: ignore[arg-type]
    token = mint_token(staff, runtime.settings.secret_key)
    return TestClient(build_app([runtime]), headers={"Authorization": f"Bearer {token}"})


def test_train_stores_a_model_whose_labels_are_departments(
    environment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routing", "train", "--from", str(training_file(tmp_path))]) == 0
    assert "stored classifier v1" in capsys.readouterr().out
    [row] = stored(environment)
    assert row.source == "file"
    assert row.examples == len(corpus())
    # The categories were mapped to their departments through the catalogue.
    assert row.labels == ["edu", "env", "transport"]
    assert set(row.metrics) == {"cv_accuracy", "cv_macro_f1"}
    assert Model.from_bytes(row.model).predict(CONFIDENT) == "env"


def test_train_refuses_labels_that_are_no_department_or_category(
    environment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\n" + "学校,火星局\n" * 3 + "公交,transport\n" * 3)
    assert main(["routing", "train", "--from", str(path)]) == 1
    assert "火星局" in capsys.readouterr().err
    assert stored(environment) == []


def test_dispatch_sends_confident_cases_and_queues_unsure_ones_with_suggestions(
    environment: Settings, tmp_path: Path, running: list[ServiceRuntime]
) -> None:
    assert main(["routing", "train", "--from", str(training_file(tmp_path))]) == 0
    model = Model.from_bytes(stored(environment)[0].model)
    sure, unsure = (model.suggest(t)[0].confidence for t in (CONFIDENT, MIXED))
    assert unsure < sure
    settings = dataclasses.replace(environment, dispatch_confidence=(sure + unsure) / 2)
    runtime = start_routing(settings, running)

    confident, mixed, named = dispatched(
        runtime,
        submitted_event(1, CONFIDENT),
        submitted_event(2, MIXED),
        submitted_event(3, CONFIDENT, category="教育文体"),
    )
    assert (confident.status, confident.department_code) == ("dispatched", "env")
    assert confident.matched_by.startswith("classifier v1:")
    assert (mixed.status, mixed.department_code) == ("awaiting_dispatch", None)
    assert mixed.matched_by.startswith("classifier v1 unsure:")
    # A category the citizen named still decides.
    assert (named.department_code, named.matched_by) == ("edu", "category:教育文体")

    response = client_as(runtime, "dispatcher").get(f"/api/v1/work-orders/{mixed.id}/suggestions")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "awaiting_dispatch"
    assert body["model_version"] == 1
    suggestions = body["suggestions"]
    assert len(suggestions) == 3
    assert {s["department_code"] for s in suggestions[:2]} == {"edu", "transport"}
    assert suggestions[0]["confidence"] < settings.dispatch_confidence
    assert suggestions[0]["department_name"] in ("县教育局", "县交通运输局")
    assert suggestions[0]["words"]
    assert all(w in MIXED for w in suggestions[0]["words"])


def test_suggestions_are_for_dispatchers_only_and_404_for_no_such_order(
    environment: Settings,
) -> None:
    runtime = ServiceRuntime(routing.SERVICE, environment)
    path = f"/api/v1/work-orders/{uuid.uuid4()}/suggestions"
    try:
        assert client_as(runtime, "handler").get(path).status_code == 403
        assert client_as(runtime, "dispatcher").get(path).status_code == 404
        assert TestClient(build_app([runtime])).get(path).status_code == 401
    finally:
        runtime.database.dispose()


def test_cold_start_falls_back_to_the_catalogues_keyword_rules(
    environment: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = start_routing(environment, running)
    by_keyword, nothing = dispatched(
        runtime, submitted_event(1, "化工厂偷排污水"), submitted_event(2, "嗯嗯嗯，没什么")
    )
    assert (by_keyword.department_code, by_keyword.status) == ("env", "dispatched")
    assert by_keyword.matched_by.startswith("keywords:")
    assert by_keyword.suggestions is None
    assert (nothing.status, nothing.matched_by) == ("awaiting_dispatch", "no rule matched")
    body = (
        client_as(runtime, "dispatcher").get(f"/api/v1/work-orders/{nothing.id}/suggestions").json()
    )
    assert (body["model_version"], body["suggestions"]) == (None, [])


def add_decisions(runtime: ServiceRuntime, pairs: list[tuple[str, str]]) -> None:
    """Work orders a dispatcher sent by hand, as the dispatcher console records them."""
    now = datetime.now(UTC)
    with runtime.work() as work:
        work.session.add_all(
            WorkOrder(
                id=uuid.uuid4(),
                case_id=uuid.uuid4(),
                tracking_no="20261201-000000",
                department_code=department,
                status="dispatched",
                matched_by="dispatcher:李调度",
                kind="complaint",
                category=None,
                description=text,
                address=None,
                deadline=date(2026, 12, 16),
                created_at=now,
                updated_at=now,
            )
            for text, department in pairs
        )


def test_retraining_from_the_dispatchers_decisions(
    environment: Settings, running: list[ServiceRuntime], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = start_routing(environment, running)
    add_decisions(runtime, corpus(per_department=6))
    assert main(["routing", "train", "--from-decisions"]) == 0
    assert "18 examples" in capsys.readouterr().out
    [first] = stored(environment)
    assert (first.source, first.examples, first.labels) == (
        "decisions",
        18,
        ["edu", "env", "transport"],
    )

    # Nothing new since: the periodic task leaves the model alone.
    with runtime.work() as work:
        assert retrain_if_due(work.session) is None
    # Enough new decisions: the Celery task, sent as the hourly job sends it, retrains.
    add_decisions(runtime, corpus(per_department=MIN_NEW_DECISIONS // 3 + 1, seed=11))
    assert runtime.celery is not None
    runtime.celery.send_task(RETRAIN)
    latest = wait_until(lambda: len(stored(environment)) == 2 and stored(environment)[-1], 60)
    assert latest.source == "decisions"
    assert latest.examples == 18 + 3 * (MIN_NEW_DECISIONS // 3 + 1)

    # Dispatch picks up the newer model.
    model_cache.clear()
    [order] = dispatched(runtime, submitted_event(1, CONFIDENT))
    assert order.matched_by.startswith("classifier v2")


def test_evaluate_prints_the_scores_on_its_last_line(tmp_path: Path) -> None:
    train_path = training_file(tmp_path, by_category=False)
    test_path = tmp_path / "test.csv"
    rows = [f"{t},{d}" for t, d in corpus(per_department=4, seed=99)]
    test_path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = subprocess.run(
        [*MINQING, "routing", "evaluate", "--train", str(train_path), "--test", str(test_path)],
        env=base_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"accuracy=([0-9.]+) macro_f1=([0-9.]+) ms_per_case=([0-9.]+)", last)
    assert match, last
    assert float(match[1]) > 0.9
    assert float(match[3]) < 5


def test_the_cached_model_is_replaced_when_a_newer_one_is_stored(
    environment: Settings, tmp_path: Path
) -> None:
    database = ServiceRuntime(routing.SERVICE, environment).database
    cache = ModelCache(ttl=0)
    try:
        with database.session() as session:
            assert cache.get(session) is None
        assert main(["routing", "train", "--from", str(training_file(tmp_path))]) == 0
        with database.session() as session:
            first = cache.get(session)
            assert first is not None
            assert first.version == 1
            assert cache.get(session) is first  # the same version is not loaded again
        assert main(["routing", "train", "--from", str(training_file(tmp_path))]) == 0
        with database.session() as session:
            second = cache.get(session)
        assert second is not None
        assert second.version == 2
    finally:
        database.dispose()
