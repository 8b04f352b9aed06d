"""Admission control: never more requests inside the app than it has threads for."""

from __future__ import annotations

import asyncio
from typing import Any

from services.kernel.http import HTTP_THREADS, _Admission


def test_requests_beyond_the_limit_wait_and_all_complete() -> None:
    inside = 0
    most_inside = 0
    done = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal inside, most_inside, done
        inside += 1
        most_inside = max(most_inside, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        done += 1

    async def noop(*_: Any) -> Any:
        return {"type": "http.request", "body": b""}

    async def burst() -> None:
        admission = _Admission(app, limit=4)
        await asyncio.gather(*(admission({"type": "http"}, noop, noop) for _ in range(50)))

    asyncio.run(burst())
    assert done == 50
    assert most_inside == 4


def test_non_http_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def noop(*_: Any) -> None:
        return None

    asyncio.run(_Admission(app, limit=1)({"type": "lifespan"}, noop, noop))
    assert seen == ["lifespan"]


def test_the_admission_limit_leaves_database_connections_to_spare() -> None:
    from services.kernel.db import POOL_SIZE

    assert HTTP_THREADS < POOL_SIZE
