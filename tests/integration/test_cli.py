"""The `minqing` command as people run it: refusals say what is wrong; readiness tells the truth."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient

from services import intake
from services.kernel.config import load_settings
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import MINQING, REPO, base_env


def run_minqing(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = base_env(**env)
    if "MINQING_SECRET_KEY" not in env:
        del environment["MINQING_SECRET_KEY"]
    return subprocess.run(
        [*MINQING, *args], env=environment, cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_serve_refuses_to_run_on_rabbitmq_without_a_secret_key(tmp_path: Path) -> None:
    result = run_minqing(
        "serve",
        "intake",
        MINQING_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
        MINQING_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 2
    assert "MINQING_SECRET_KEY" in result.stderr


def test_serve_refuses_the_guest_account_on_a_remote_broker(tmp_path: Path) -> None:
    result = run_minqing(
        "serve",
        "intake",
        MINQING_BROKER_URL="amqp://guest:guest@rabbit.example:5672//",
        MINQING_SECRET_KEY="k" * 40,
        MINQING_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 2
    assert "guest" in result.stderr


def test_replay_refuses_the_embedded_broker(tmp_path: Path) -> None:
    result = run_minqing(
        "replay", "--service", "intake", "--since", "2026-01-01", MINQING_DATA_DIR=str(tmp_path)
    )
    assert result.returncode == 2
    assert "embedded" in result.stderr


def test_readyz_is_503_and_names_the_database_when_it_cannot_be_reached(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            # Nothing listens on port 1: the database is unreachable.
            "MINQING_INTAKE_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        }
    )
    runtime = ServiceRuntime(intake.SERVICE, settings)
    client = TestClient(build_app([runtime]))
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"intake-database": False, "broker": True}
