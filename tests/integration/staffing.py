"""Staff for the channel tests: running services, accounts, signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.kernel.config import Settings, load_settings
from services.kernel.db import Database
from services.routing.staff import NewStaff, add_staff
from tests.support import (
    TEST_SECRET,
    Cluster,
    postgres_databases,
    rabbitmq_vhost,
    running_services,
    wait_until,
)

PASSWORD = "county-hotline-2026"


@dataclass
class Site:
    """Running services, their databases, and where their SMS go."""

    cluster: Cluster
    settings: Settings
    database_url: str
    amqp_url: str
    sms_path: Path

    def url(self, service: str) -> str:
        return self.cluster.url(service)

    @contextmanager
    def database(self, service: str) -> Iterator[Database]:
        database = Database(self.settings.database_url(service), pool_size=1, max_overflow=0)
        try:
            yield database
        finally:
            database.dispose()

    def add_staff(
        self,
        username: str,
        *roles: str,
        name: str | None = None,
        department: str | None = None,
        unit: str | None = "12345 热线中心",
    ) -> None:
        with self.database("routing") as database, database.session() as session:
            add_staff(
                session,
                NewStaff(
                    username=username,
                    name=name or username,
                    roles=roles,
                    password=PASSWORD,
                    department_code=department,
                    unit=unit,
                ),
            )
            session.commit()

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = httpx.post(
            f"{self.url('routing')}/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def client(self, service: str, username: str | None = None) -> httpx.Client:
        """An HTTP client for `service`, signed in as `username` if given."""
        headers = {"Accept-Language": "en"}
        if username is not None:
            headers["Authorization"] = f"Bearer {self.token(username)}"
        return httpx.Client(base_url=self.url(service), headers=headers, timeout=30)

    def scalar(self, service: str, statement: Any) -> Any:
        with self.database(service) as database, database.session() as session:
            return session.scalar(statement)

    def rows(self, service: str, statement: Any) -> list[Any]:
        with self.database(service) as database, database.session() as session:
            return list(session.execute(statement).all())


@contextmanager
def running_site(names: Sequence[str], tmp_path: Path) -> Iterator[Site]:
    """`minqing serve` for each of `names`, on fresh databases and a fresh vhost."""
    with (
        postgres_databases() as database_url,
        rabbitmq_vhost() as amqp_url,
        running_services(names, database_url, amqp_url, tmp_path) as cluster,
    ):
        settings = load_settings(
            {
                "MINQING_DATABASE_URL": database_url,
                "MINQING_DATA_DIR": str(tmp_path),
                "MINQING_SECRET_KEY": TEST_SECRET,
            }
        )
        yield Site(cluster, settings, database_url, amqp_url, tmp_path / "sms-outbox.jsonl")


def wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    return wait_until(predicate, timeout, interval=0.2)
