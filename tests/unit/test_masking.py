"""Personal data never leaves the process in logs: phones, ID numbers and emails are masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.kernel.telemetry import JsonFormatter, mask_pii


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("市民电话13812345678，要求回电", "市民电话138****5678，要求回电"),
        ("phone=+86 13912345678", "phone=139****5678"),
        ("phone=+8613912345678", "phone=139****5678"),
        ("phone=86-15912345678", "phone=159****5678"),
    ],
)
def test_mobile_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证号330226199003071234", "身份证号330226********1234"),
        ("身份证号33022619900307123X", "身份证号330226********123X"),
        ("id 33022619900307123x end", "id 330226********123x end"),
    ],
)
def test_resident_id_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_email_addresses_are_masked() -> None:
    assert mask_pii("来信 zhang.san@example.com 已收") == "来信 z***@example.com 已收"


@pytest.mark.parametrize(
    "text",
    [
        "case 20261127-000001 received",
        "编号20261127-000001，查询码7K3MPX",
        "promised 2026-12-16, submitted 2026-11-27T01:30:00+00:00",
        "took 1234 ms, 56 rows, 38 cases",
        "order 123456789012345 of 20 items",
        "payment reference 4200002026112712345678901234",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask_pii(text) == text


@pytest.mark.parametrize("written", ["138 1234 5678", "138-1234-5678"])
def test_mobile_numbers_written_with_spaces_or_dashes_are_masked(written: str) -> None:
    assert "1234" not in mask_pii(f"invalid contact phone: {written}")


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.unit.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_log_line_is_json_with_phone_masked_in_message_and_extra(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured

    logger.info(
        "citizen %s asked about a case",
        "13812345678",
        extra={"contact_phone": "+86 13912345678", "tracking_no": "20261127-000001"},
    )

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO"
    assert entry["logger"] == "tests.unit.masking"
    assert entry["msg"] == "citizen 138****5678 asked about a case"
    assert entry["contact_phone"] == "139****5678"
    assert entry["tracking_no"] == "20261127-000001"
    assert "13812345678" not in lines[0]
    assert "13912345678" not in lines[0]


def test_log_line_masks_personal_data_in_exception_text(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured

    try:
        raise ValueError("no citizen with email li.si@example.org or id 33022619900307123X")
    except ValueError:
        logger.exception("lookup failed")

    entry = json.loads(stream.getvalue())
    assert "l***@example.org" in entry["exc"]
    assert "330226********123X" in entry["exc"]
    assert "li.si@" not in stream.getvalue()
    assert "33022619900307123X" not in stream.getvalue()
