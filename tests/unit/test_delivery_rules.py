"""Pure rules of delivery: SMPP parts and receipts, a message's outcome, signatures, numbers."""

from __future__ import annotations

import time

import pytest

from services.kernel.config import ConfigError
from services.notify.gateways import gateway_from_url
from services.notify.gateways.http import signature, signature_is_valid
from services.notify.gateways.smpp import (
    DEFAULT_ALPHABET,
    UCS2,
    UDH_INDICATOR,
    Reassembly,
    gsm7_decode,
    gsm7_septets,
    parse_receipt,
    split_message,
    user_data_parts,
)
from services.notify.policy import national_number
from services.notify.receipts import outcome
from services.notify.sms import segments


def joined(parts: list[bytes], coding: str) -> str:
    return b"".join(parts).decode(coding)


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_text_is_one_part_up_to_70_and_67_a_part_beyond(length: int, parts: int) -> None:
    text = "民" * length
    split = split_message(text, reference=7)
    assert len(split) == parts == segments(text)
    assert {p.data_coding for p in split} == {UCS2}
    if parts > 1:
        assert all(p.esm_class == UDH_INDICATOR for p in split)
        assert [p.short_message[:6] for p in split] == [
            bytes([5, 0, 3, 7, parts, n]) for n in range(1, parts + 1)
        ]
        assert joined([p.short_message[6:] for p in split], "utf-16-be") == text


def test_a_surrogate_pair_is_never_cut_between_two_parts() -> None:
    text = "民" * 66 + "😀" + "情" * 10  # the emoji would straddle units 67 and 68
    split = split_message(text, reference=1)
    payloads = [p.short_message[6:] for p in split]
    assert all(len(p) <= 134 for p in payloads)
    assert [p.decode("utf-16-be") for p in payloads] == ["民" * 66, "😀" + "情" * 10]


@pytest.mark.parametrize(("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_text_is_one_part_up_to_160_and_153_a_part_beyond(length: int, parts: int) -> None:
    split = split_message("a" * length, reference=1)
    assert len(split) == parts
    assert {p.data_coding for p in split} == {DEFAULT_ALPHABET}


def test_an_extension_character_costs_two_septets_and_stays_whole() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the euro sign's two septets would straddle 153
    split = split_message(text, reference=1)
    assert [len(p.short_message) - 6 for p in split] == [152, 12]
    assert gsm7_decode(b"".join(p.short_message[6:] for p in split)) == text
    assert gsm7_septets("{") == [bytes([0x1B, 0x28])]


def test_a_long_reply_is_joined_once_its_last_part_is_in() -> None:
    joining = Reassembly()
    part = [bytes([5, 0, 3, 9, 2, n]) + c.encode("utf-16-be") for n, c in ((1, "进"), (2, "度"))]
    sixteen_bit = bytes([6, 8, 4, 1, 2, 2, 1]) + "另".encode("utf-16-be")

    assert joining.add("138", part[1]) is None
    assert joining.add("139", sixteen_bit) is None  # another reply, with a 16-bit reference
    assert joining.add("138", part[0]) == "进度".encode("utf-16-be")
    joining.forget("138", part[0])
    assert joining.add("138", part[1]) is None  # forgotten: the next reply starts afresh
    assert user_data_parts(sixteen_bit) == (0x0102, 2, 1, "另".encode("utf-16-be"))
    assert user_data_parts(bytes([3, 0x24, 1, 0]) + b"x") is None


def test_a_receipt_is_read_from_its_optional_parameters_before_its_text() -> None:
    text = (
        "id:abc sub:001 dlvrd:000 submit date:2612010930 done date:2612010931 "
        "stat:UNDELIV err:011 text:"
    )
    assert parse_receipt(text) == ("abc", "failed", "UNDELIV err:011")
    assert parse_receipt(text, "XYZ", 2) == ("XYZ", "delivered", None)
    assert parse_receipt("id:abc stat:EXPIRED err:000") == ("abc", "expired", "EXPIRED err:000")
    assert parse_receipt("id:abc stat:ENROUTE") is None
    assert parse_receipt("hello") is None


def test_a_message_is_settled_by_its_parts() -> None:
    assert outcome(["delivered", "delivered"]) == "delivered"
    assert outcome(["delivered", None]) is None
    assert outcome(["delivered", "expired"]) == "expired"
    assert outcome(["expired", "failed"]) == "failed"
    assert outcome([]) is None


def test_a_signature_is_bound_to_the_body_the_secret_and_the_time() -> None:
    body, now = b'{"receipts": []}', time.time()
    stamp = str(int(now))
    good = signature("s", stamp, body)
    assert signature_is_valid("s", stamp, body, good, now)
    assert not signature_is_valid("s", stamp, body + b" ", good, now)
    assert not signature_is_valid("t", stamp, body, good, now)
    assert not signature_is_valid("s", stamp, body, good, now + 3600)
    assert not signature_is_valid("", stamp, body, signature("", stamp, body), now)
    assert not signature_is_valid("s", "soon", body, good, now)


def test_a_reply_number_is_compared_without_the_country_code() -> None:
    assert national_number("+8613800138000") == "13800138000"
    assert national_number("8613800138000") == "13800138000"
    assert national_number("13800138000") == "13800138000"


@pytest.mark.parametrize(
    "url",
    [
        "smpp://127.0.0.1:2775",  # no system_id
        "smpp://id:pw@127.0.0.1:2775?bind=receiver",
        "smpp://id:pw@127.0.0.1:2775?window=0",
        "https://sms.example.com/send",  # no secret
        "ftp://example.com/",
    ],
)
def test_a_gateway_url_that_cannot_work_is_refused_at_start(url: str) -> None:
    with pytest.raises(ConfigError):
        gateway_from_url(url)


def test_a_transmitter_waits_for_no_receipts() -> None:
    assert gateway_from_url("smpp://id:pw@127.0.0.1:2775").sends_receipts
    assert not gateway_from_url("smpp://id:pw@127.0.0.1:2775?bind=transmitter").sends_receipts
    assert gateway_from_url("https://sms.example.com/send", secret="k").sends_receipts
