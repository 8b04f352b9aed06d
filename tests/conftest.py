"""Fixtures giving each test its own real PostgreSQL databases and RabbitMQ vhost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support import postgres_databases, rabbitmq_vhost


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A MINQING_DATABASE_URL template (with `{service}`) for four fresh databases."""
    with postgres_databases() as url:
        yield url


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """The URL of a fresh RabbitMQ vhost."""
    with rabbitmq_vhost() as url:
        yield url


_OWN_PROCESS = "MINQING_TEST_IN_OWN_PROCESS"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Run a test marked `own_process` again in a fresh interpreter, and report its outcome.

    Celery's worker and task registry are process-wide: after other tests have built and
    stopped services' Celery apps in this process, a runtime's worker may not run a task sent
    to it, though in a service's own process it always does.
    """
    if item.get_closest_marker("own_process") is None or os.environ.get(_OWN_PROCESS):
        return
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", item.nodeid],
        env={**os.environ, _OWN_PROCESS: "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"in its own process:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    # Passed in its own process: nothing is left to run here.
    item.runtest = lambda: None  # type: ignore[method-assign]
