"""Each service's migrations build exactly the schema its models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from services.__main__ import SPECS
from services.kernel.config import Settings
from services.kernel.migrations import upgrade
from services.kernel.outbox import kernel_metadata


def schema_drift(url: str, service: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            return list(compare_metadata(context, [kernel_metadata, SPECS[service].metadata]))
    finally:
        engine.dispose()


@pytest.mark.integration
@pytest.mark.parametrize("service", list(SPECS))
def test_migrations_match_models_on_postgresql(settings: Settings, service: str) -> None:
    # The `settings` fixture has already migrated every service's database.
    assert schema_drift(settings.database_url(service), service) == []


@pytest.mark.parametrize("service", list(SPECS))
def test_migrations_match_models_on_sqlite(tmp_path: Path, service: str) -> None:
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(service, SPECS[service].migrations, url)
    upgrade(service, SPECS[service].migrations, url)  # a second run is a no-op
    assert schema_drift(url, service) == []
