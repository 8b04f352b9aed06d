"""The inbox: an event is claimed once per handler, on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from services import routing
from services.kernel.config import load_settings
from services.kernel.db import Database
from services.kernel.migrations import upgrade
from services.kernel.outbox import claim_processed


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        settings = load_settings({"MINQING_DATABASE_URL": url})
    else:
        settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    service_url = settings.database_url("routing")
    upgrade("routing", routing.SERVICE.migrations, service_url)
    return Database(service_url)


def test_each_event_is_claimed_once_per_handler_whatever_the_batch(database: Database) -> None:
    first, second, third = (uuid.uuid4() for _ in range(3))
    try:
        with database.session() as session:
            assert claim_processed(session, "a", [first, second]) == {first, second}
            # A redelivered batch, partly new: only the new one is claimed.
            assert claim_processed(session, "a", [second, third]) == {third}
            assert claim_processed(session, "a", [first]) == set()
            # Another handler claims the same events for itself.
            assert claim_processed(session, "b", [first, second, third]) == {first, second, third}
            session.commit()
    finally:
        database.dispose()
