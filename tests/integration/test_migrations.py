"""Each service's migrations build exactly the schema its models describe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, create_engine, select, text

from services.__main__ import SPECS
from services.intake.similarity import grid_cell, normalise_address
from services.kernel.config import Settings
from services.kernel.migrations import upgrade
from services.kernel.outbox import kernel_metadata
from tests.support import postgres_databases


def migrate_intake_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(SPECS["intake"].migrations))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


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
    # The `settings` fixture gives databases cloned from ones every migration has run on.
    assert schema_drift(settings.database_url(service), service) == []


@pytest.mark.parametrize("service", list(SPECS))
def test_migrations_match_models_on_sqlite(tmp_path: Path, service: str) -> None:
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(service, SPECS[service].migrations, url)
    upgrade(service, SPECS[service].migrations, url)  # a second run is a no-op
    assert schema_drift(url, service) == []


# Migrations that fill in a new column for the cases already there: the revision before it,
# the two cases' own columns, the new column, and what it must hold for each.
BACKFILLS = {
    "0011 address key": (
        "0010_duplicate_sweep",
        [{"address": "王家村 ３组"}, {"address": None}],
        "address_key",
        [normalise_address("王家村 ３组"), None],
    ),
    "0012 grid cell": (
        "0011_address_key",
        [{"lat": 29.3012, "lon": 121.4321}, {"lat": None, "lon": None}],
        "grid_cell",
        [grid_cell(29.3012, 121.4321), None],
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("backfill", list(BACKFILLS))
def test_cases_accepted_before_a_duplicate_key_existed_get_theirs(backfill: str) -> None:
    """The keys duplicate detection finds places by are filled in for the cases already there."""
    before, columns, key, expected = BACKFILLS[backfill]
    with postgres_databases(migrated=False) as template:
        url = template.format(service="intake").replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrate_intake_to(connection, before)
                cases = Table("cases", MetaData(), autoload_with=connection)
                now = datetime.now(UTC)
                connection.execute(
                    cases.insert(),
                    [
                        {
                            "id": uuid.uuid4(),
                            "tracking_no": f"MQ{n}",
                            "access_code_hash": "x",
                            "channel": "web",
                            "kind": "complaint",
                            "description": "路灯坏了",
                            "status": "dispatched",
                            "promised_date": now.date(),
                            "submitted_at": now,
                            "updated_at": now,
                            **own,
                        }
                        for n, own in enumerate(columns)
                    ],
                )
                migrate_intake_to(connection, "head")
                keys = connection.execute(
                    select(cases.c.tracking_no, text(key)).order_by(cases.c.tracking_no)
                ).all()
        finally:
            engine.dispose()
    assert [tuple(k) for k in keys] == [("MQ0", expected[0]), ("MQ1", expected[1])]
