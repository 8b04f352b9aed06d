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


@pytest.mark.integration
def test_cases_accepted_before_address_keys_get_theirs() -> None:
    """0011 fills in the key duplicate detection finds places by, for the cases already there."""
    with postgres_databases(migrated=False) as template:
        url = template.format(service="intake").replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrate_intake_to(connection, "0010_duplicate_sweep")
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
                            "address": address,
                            "status": "dispatched",
                            "promised_date": now.date(),
                            "submitted_at": now,
                            "updated_at": now,
                        }
                        for n, address in enumerate(["王家村 ３组", None])
                    ],
                )
                migrate_intake_to(connection, "head")
                keys = connection.execute(
                    select(cases.c.tracking_no, text("address_key")).order_by(cases.c.tracking_no)
                ).all()
        finally:
            engine.dispose()
    assert [tuple(k) for k in keys] == [("MQ0", normalise_address("王家村 ３组")), ("MQ1", None)]


@pytest.mark.integration
def test_cases_with_a_map_point_before_grid_cells_get_theirs() -> None:
    """0012 fills in the grid cell duplicate detection finds near places by."""
    with postgres_databases(migrated=False) as template:
        url = template.format(service="intake").replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                migrate_intake_to(connection, "0011_address_key")
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
                            "lat": lat,
                            "lon": lon,
                            "status": "dispatched",
                            "promised_date": now.date(),
                            "submitted_at": now,
                            "updated_at": now,
                        }
                        for n, (lat, lon) in enumerate([(29.3012, 121.4321), (None, None)])
                    ],
                )
                migrate_intake_to(connection, "head")
                cells = connection.execute(
                    select(cases.c.tracking_no, text("grid_cell")).order_by(cases.c.tracking_no)
                ).all()
        finally:
            engine.dispose()
    assert [tuple(c) for c in cells] == [("MQ0", grid_cell(29.3012, 121.4321)), ("MQ1", None)]
