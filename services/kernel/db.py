"""Database engines, the unit of work, and the column types every service shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from services.kernel.config import DEFAULT_DB_POOL_SIZE

# Enough kept-open connections for every admitted request (kernel.http.HTTP_THREADS) plus the
# consumers, the periodic jobs and Celery's threads, so that neither a request nor a handler
# waits for one, and none is opened and closed per request under load (MINQING_DB_POOL_SIZE).
POOL_SIZE = DEFAULT_DB_POOL_SIZE
POOL_OVERFLOW = 8

# Constraint names every service's tables follow, so migrations can name what they change.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back time-zone aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_database_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    wait_for_disk: bool = True,
) -> Engine:
    """An engine tuned for the backend: WAL and immediate transactions on SQLite.

    `wait_for_disk=False` lets PostgreSQL acknowledge a commit before its WAL reaches the disk,
    for work whose loss in a database crash is harmless because it is simply done again.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        _serialise_sqlite_writers(engine)
        return engine
    connect_args = {} if wait_for_disk else {"options": "-c synchronous_commit=off"}
    # No pre-ping: it costs a round trip per checkout. After a database restart the first use of
    # a stale connection fails, SQLAlchemy drops the whole pool, and consumers retry.
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _serialise_sqlite_writers(engine: Engine) -> None:
    # SQLite cannot upgrade a read transaction to a write one under contention without failing
    # at once; taking the write lock at BEGIN lets busy_timeout queue writers instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_insert(bind: Engine | Connection) -> Callable[..., Any]:
    """The dialect's `insert`, which offers `on_conflict_do_update` / `on_conflict_do_nothing`."""
    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert


class UnitOfWork:
    """One transaction: commits on success, rolls back on error, then runs after-commit hooks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._before_commit: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` inside the transaction, just before it commits (writes gathered rows)."""
        self._before_commit.append(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(hook)

    def commit(self) -> None:
        for before in self._before_commit:
            before()
        self.session.commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()


class Database:
    """One service's database: its engine and the units of work opened on it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = POOL_OVERFLOW,
        wait_for_disk: bool = True,
    ) -> None:
        self.url = url
        self.engine = create_database_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, wait_for_disk=wait_for_disk
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A bare session for reads and for the runtime's own bookkeeping."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                yield uow
            except BaseException:
                session.rollback()
                raise
            uow.commit()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
