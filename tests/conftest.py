"""Fixtures giving each test its own real PostgreSQL databases and RabbitMQ vhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres_databases, rabbitmq_vhost, sweep_run


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


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the process that ran the session (not an xdist worker), once every worker has gone:
    delete what the run's tests made and their workers had not deleted yet."""
    if not hasattr(config, "workerinput"):
        sweep_run()
