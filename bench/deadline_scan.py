"""How long the deadline scan takes on PostgreSQL, and what one deadline costs to compute.

`python bench/deadline_scan.py [--orders N] [--postgres-url URL]` makes a routing database of its
own, migrates it, records N dispatched work orders long overdue, and times the scan that marks
each overdue, urges and supervises it (one claim per step, events in the outbox), then a second
scan that finds nothing left. The database is dropped at the end. The last line is
machine-readable: `orders=… first_scan_s=… orders_per_s=… idle_scan_ms=… due_at_us=…`.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg

from services import routing
from services.kernel.config import load_settings
from services.kernel.migrations import upgrade
from services.kernel.runtime import ServiceRuntime
from services.routing.catalogue import load_catalogue, sync_catalogue
from services.routing.deadlines import due_at, fix_promise, load_policy
from services.routing.escalation import scan_deadlines
from services.routing.models import WorkOrder


def main() -> None:
    """Run the benchmark and print its figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--orders", type=int, default=10_000)
    options.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    args = options.parse_args()

    name = f"mqbench_{uuid.uuid4().hex[:10]}_routing"
    with psycopg.connect(f"{args.postgres_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        figures = measure(f"{args.postgres_url}/{name}", args.orders)
    finally:
        with psycopg.connect(f"{args.postgres_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


def measure(url: str, count: int) -> dict[str, str]:
    settings = load_settings({"MINQING_ROUTING_DATABASE_URL": url})
    upgrade("routing", routing.SERVICE.migrations, settings.database_url("routing"))
    runtime = ServiceRuntime(routing.SERVICE, settings)
    dispatched = datetime.now(UTC) - timedelta(days=60)
    with runtime.work() as work:
        sync_catalogue(work.session, load_catalogue())
    with runtime.work() as work:
        for n in range(count):
            order = WorkOrder(
                id=uuid.uuid4(),
                case_id=uuid.uuid4(),
                tracking_no=f"20261001-{n:06d}",
                department_code="edu",
                status="dispatched",
                matched_by="bench",
                kind="complaint",
                category=None,
                description="bench",
                address=None,
                deadline=date(2026, 10, 1),
                created_at=dispatched,
                updated_at=dispatched,
            )
            fix_promise(order, dispatched)
            work.session.add(order)

    started = time.perf_counter()
    with runtime.work() as work:
        result = scan_deadlines(work, datetime.now(UTC))
    first = time.perf_counter() - started
    assert result.supervised == count, result
    started = time.perf_counter()
    with runtime.work() as work:
        scan_deadlines(work, datetime.now(UTC))
    idle = time.perf_counter() - started
    runtime.database.dispose()

    limit = load_policy().limit_for("complaint")
    moments = [dispatched + timedelta(hours=7 * n) for n in range(2000)]
    started = time.perf_counter()
    for moment in moments:
        due_at(limit, moment)
    per_deadline = (time.perf_counter() - started) / len(moments)
    return {
        "orders": str(count),
        "first_scan_s": f"{first:.2f}",
        "orders_per_s": f"{count / first:.0f}",
        "idle_scan_ms": f"{idle * 1000:.1f}",
        "due_at_us": f"{per_deadline * 1e6:.1f}",
    }


if __name__ == "__main__":
    main()
