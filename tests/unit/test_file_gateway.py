"""The file gateway writes a batch once, however often it is retried."""

from __future__ import annotations

import json
from pathlib import Path

from services.notify.gateways import OutgoingSms
from services.notify.gateways.file import FileGateway


def sms(message_id: str) -> OutgoingSms:
    return OutgoingSms(message_id, "13812345678", "【民情】已受理", 1, "20261127-000001", "t")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_retried_batch_adds_only_what_was_not_written(tmp_path: Path) -> None:
    path = tmp_path / "sms-outbox.jsonl"
    FileGateway(path).send([sms("a"), sms("b")])
    # A new gateway, as after a restart, learns what the file already holds.
    FileGateway(path).send([sms("a"), sms("b"), sms("c")])
    assert [line["id"] for line in lines(path)] == ["a", "b", "c"]


def test_a_message_twice_in_one_batch_is_written_once(tmp_path: Path) -> None:
    path = tmp_path / "sms-outbox.jsonl"
    FileGateway(path).send([sms("a"), sms("a")])
    assert [line["id"] for line in lines(path)] == ["a"]
    assert lines(path)[0]["text"] == "【民情】已受理"
