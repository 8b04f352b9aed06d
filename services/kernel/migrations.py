"""Alembic, per service: each service's `migrations/` folder, applied under a lock."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from services.kernel.outbox import kernel_metadata


def ensure_database(url: str) -> None:
    """Create the service's database (PostgreSQL) or its folder (SQLite) if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = parsed.database
    maintenance = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        maintenance.dispose()


def upgrade(service: str, migrations_dir: Path, url: str) -> None:
    """Bring a service's schema to head; concurrent starters wait for one another."""
    ensure_database(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                lock = zlib.crc32(f"minqing-migrate-{service}".encode())
                connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
            config = Config()
            config.set_main_option("script_location", str(migrations_dir))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def run_env(service_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`: online, on the given connection."""
    connection: Any = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `minqing migrate`, which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=[kernel_metadata, service_metadata],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
