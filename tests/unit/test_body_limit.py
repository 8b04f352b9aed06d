"""Request bodies: 1 MiB by default, more only on the routes that take files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from services.kernel.config import load_settings
from services.kernel.http import MAX_BODY_BYTES, allow_body, create_app

MIB = 1024 * 1024
router = APIRouter()


@router.post("/uploads/{name}")
@allow_body(3 * MIB)
async def upload(name: str, request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


@router.post("/notes")
async def note(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    return TestClient(create_app("test", settings, [router], {}, {}))


def chunks(size: int) -> Iterator[bytes]:
    # No Content-Length: the limit must hold while the body streams in.
    for _ in range(size // (256 * 1024)):
        yield b"x" * (256 * 1024)


def test_a_marked_route_takes_bodies_up_to_its_allowance(client: TestClient) -> None:
    answer = client.post("/uploads/a", content=b"x" * (2 * MIB))
    assert answer.status_code == 200
    assert answer.json() == {"received": 2 * MIB}


def test_over_the_allowance_is_a_413_naming_the_limit(client: TestClient) -> None:
    answer = client.post("/uploads/a", content=b"x" * (3 * MIB + 1))
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": [{"field": "body", "message": f"超过 {3 * MIB} 字节", "type": "too_large"}]
    }


def test_other_routes_keep_the_default(client: TestClient) -> None:
    answer = client.post("/notes", content=b"x" * (MAX_BODY_BYTES + 1))
    assert answer.status_code == 413
    assert str(MAX_BODY_BYTES) in answer.json()["detail"][0]["message"]


def test_a_streamed_body_is_held_to_its_routes_allowance(client: TestClient) -> None:
    assert client.post("/uploads/a", content=chunks(2 * MIB)).status_code == 200
    assert client.post("/uploads/a", content=chunks(4 * MIB)).status_code == 413
    assert client.post("/notes", content=chunks(2 * MIB)).status_code == 413
