"""Lifecycle transitions per second through routing's HTTP API, on PostgreSQL and RabbitMQ.

`python bench/lifecycle.py [--orders N] [--concurrency C] [--http-workers W]` starts routing
as a `minqing serve --http-workers W` process on a database and vhost of its own, inserts N
dispatched work orders, and has one department's handler sign for each and add three progress
notes (four transitions an order, each checked, audited and published through the outbox)
with C requests in flight. The last
line printed is machine-readable: `transitions_per_s=… p50_ms=… p99_ms=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# e2e.py lies beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e

from services.kernel.clock import utcnow
from services.kernel.config import load_settings
from services.kernel.db import Database
from services.routing.models import WorkOrder
from services.routing.staff import NewStaff, add_staff
from tests.support import (
    TEST_SECRET,
    postgres_databases,
    rabbitmq_vhost,
    running_services,
)

TARGET_TRANSITIONS_PER_S = 500.0
PASSWORD = "bench-handler-2026"
NOTES = 3


def seed(database_url: str, orders: int) -> list[uuid.UUID]:
    settings = load_settings(
        {"MINQING_DATABASE_URL": database_url, "MINQING_SECRET_KEY": TEST_SECRET}
    )
    database = Database(settings.database_url("routing"), pool_size=1, max_overflow=0)
    now = utcnow()
    ids = [uuid.uuid4() for _ in range(orders)]
    try:
        with database.session() as session:
            add_staff(
                session,
                NewStaff(
                    username="bench.edu",
                    name="bench",
                    roles=("handler",),
                    password=PASSWORD,
                    department_code="edu",
                    unit=None,
                ),
            )
            session.add_all(
                WorkOrder(
                    id=order_id,
                    case_id=uuid.uuid4(),
                    tracking_no=f"B{n:08d}",
                    department_code="edu",
                    status="dispatched",
                    matched_by="bench",
                    kind="complaint",
                    category=None,
                    description="bench",
                    address=None,
                    deadline=date.today() + timedelta(days=10),
                    created_at=now,
                    updated_at=now,
                    role="lead",
                    rehandles=0,
                    supervised=False,
                )
                for n, order_id in enumerate(ids)
            )
            session.commit()
    finally:
        database.dispose()
    return ids


async def drive(
    url: str, ids: list[uuid.UUID], concurrency: int, batch: int
) -> tuple[float, list[float], int]:
    """Requests' latencies and the transitions they made; `batch` actions per request."""
    token = httpx.post(
        f"{url}/api/v1/auth/token",
        data={"grant_type": "password", "username": "bench.edu", "password": PASSWORD},
        timeout=60,
    ).json()["access_token"]
    # e2e's minimal client: on two cores a general-purpose one takes CPU from routing.
    client = e2e.HttpPool(url, size=concurrency, headers={"Authorization": f"Bearer {token}"})
    try:
        latencies: list[float] = []
        moved: list[int] = []
        queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        for order_id in ids:
            queue.put_nowait(order_id)

        async def step(order_ids: list[uuid.UUID], action: str, body: dict[str, str]) -> None:
            if batch == 1:
                path = f"/api/v1/work-orders/{order_ids[0]}/{action}"
                payload: dict[str, object] = body
            else:
                path = "/api/v1/work-orders/actions"
                payload = {
                    "actions": [{"order_id": str(i), "action": action, **body} for i in order_ids]
                }
            reply = await client.request("POST", path, json.dumps(payload).encode())
            latencies.append(reply.answered - reply.sent)
            moved.append(len(order_ids))
            if reply.status != 200:
                raise RuntimeError(f"{action}: {reply.status} {reply.body[:300]!r}")

        async def worker() -> None:
            while not queue.empty():
                order_ids = [queue.get_nowait() for _ in range(min(batch, queue.qsize()))]
                await step(order_ids, "sign-for", {})
                for n in range(NOTES):
                    await step(order_ids, "progress", {"reason": f"note {n}"})

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, sum(moved)
    finally:
        client.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="actions per request: 1 uses POST /work-orders/{id}/{action}, more the batch API",
    )
    parser.add_argument(
        "--http-workers", type=int, default=2, help="routing's `serve --http-workers` (2)"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_databases() as database_url,
        rabbitmq_vhost() as amqp_url,
        running_services(
            ("routing",),
            database_url,
            amqp_url,
            Path(tmp),
            {"routing": ("--http-workers", str(args.http_workers))},
        ) as cluster,
    ):
        ids = seed(database_url, args.orders)
        routing = cluster.processes["routing"].process
        assert routing is not None
        pids = [routing.pid, *e2e.child_pids(routing.pid)]
        busy_before = e2e.machine_busy_seconds()
        routing_before = sum(e2e.cpu_seconds(pid) for pid in pids)
        took, latencies, transitions = asyncio.run(
            drive(cluster.url("routing"), ids, args.concurrency, args.batch)
        )
        busy = e2e.machine_busy_seconds() - busy_before
        routing_cpu = sum(e2e.cpu_seconds(pid) for pid in pids) - routing_before
    rate = transitions / took
    verdict = "meets" if rate >= TARGET_TRANSITIONS_PER_S else "misses"
    print(
        f"{transitions} transitions in {len(latencies)} requests of {args.batch} in {took:.1f} s: "
        f"{verdict} {TARGET_TRANSITIONS_PER_S}/s"
    )
    # Routing, PostgreSQL, RabbitMQ and the bench together: what one transition costs the box.
    print(
        f"machine: {busy / took:.2f} cores busy, "
        f"{busy / transitions * 1000:.2f} ms of CPU per transition, "
        f"{routing_cpu / transitions * 1000:.2f} ms of it routing's"
    )
    print(
        f"transitions_per_s={rate:.0f} p50_ms={percentile(latencies, 0.5) * 1000:.1f} "
        f"p99_ms={percentile(latencies, 0.99) * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
