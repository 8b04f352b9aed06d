"""Intake's pure rules: tracking numbers, access codes, contacts and the citizen's status."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.intake.domain import (
    ACCESS_CODE_ALPHABET,
    ACCESS_CODE_LENGTH,
    access_code_matches,
    advances,
    format_tracking_no,
    hash_access_code,
    new_access_code,
    normalise_email,
    normalise_mobile,
)

KEY = "a-test-secret-key-that-is-long-enough-123"


def test_tracking_number_is_the_day_then_a_six_digit_sequence() -> None:
    assert format_tracking_no(date(2026, 11, 27), 1) == "20261127-000001"
    assert format_tracking_no(date(2026, 1, 5), 999_999) == "20260105-999999"
    assert re.fullmatch(r"[0-9]{8}-[0-9]{6}", format_tracking_no(date(2026, 11, 27), 42))


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
def test_tracking_number_sequence_out_of_range_is_refused(sequence: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        format_tracking_no(date(2026, 11, 27), sequence)


def test_access_code_alphabet_leaves_out_characters_citizens_confuse() -> None:
    assert not set("01OIL") & set(ACCESS_CODE_ALPHABET)


def test_access_code_has_the_right_length_and_only_unambiguous_characters() -> None:
    for _ in range(50):
        code = new_access_code()
        assert len(code) == ACCESS_CODE_LENGTH == 6
        assert set(code) <= set(ACCESS_CODE_ALPHABET)


def test_access_codes_are_random() -> None:
    codes = {new_access_code() for _ in range(20)}

    assert len(codes) == 20


def test_every_character_of_an_access_code_ranges_over_the_whole_alphabet() -> None:
    codes = [new_access_code() for _ in range(3000)]
    for position in range(ACCESS_CODE_LENGTH):
        assert {code[position] for code in codes} == set(ACCESS_CODE_ALPHABET)


def test_access_code_matches_its_own_hash() -> None:
    code = new_access_code()

    assert access_code_matches(code, hash_access_code(code, KEY), KEY)


def test_stored_hash_does_not_reveal_the_code() -> None:
    assert "7K3MPX" not in hash_access_code("7K3MPX", KEY)


@pytest.mark.parametrize("typed", ["7k3mpx", " 7K3MPX ", "7k3Mpx\n"])
def test_access_code_matches_whatever_the_case_and_surrounding_spaces(typed: str) -> None:
    assert access_code_matches(typed, hash_access_code("7K3MPX", KEY), KEY)


@pytest.mark.parametrize("typed", ["7K3MPY", "7K3MP", "", "7K3MPXX"])
def test_wrong_access_code_does_not_match(typed: str) -> None:
    assert not access_code_matches(typed, hash_access_code("7K3MPX", KEY), KEY)


def test_access_code_hashed_under_another_key_does_not_match() -> None:
    assert not access_code_matches("7K3MPX", hash_access_code("7K3MPX", KEY), KEY + "x")


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "(138) 1234 5678",
        "+86 13812345678",
        "+8613812345678",
        "86 13812345678",
        "0086-138-1234-5678",
        " 13812345678 ",
    ],
)
def test_mobile_numbers_as_citizens_write_them_are_normalised(raw: str) -> None:
    assert normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "0571-87654321",
        "057187654321",
        "87654321",
        "1381234567",
        "138123456789",
        "12812345678",
        "10012345678",
        "+1 13812345678",
        "1381234567a",
        "",
    ],
    ids=[
        "landline-with-area-code",
        "landline-digits-only",
        "local-landline",
        "ten-digits",
        "twelve-digits",
        "starts-12",
        "starts-10",
        "foreign-prefix",
        "letter",
        "empty",
    ],
)
def test_anything_but_a_mainland_mobile_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="mobile"):
        normalise_mobile(raw)


def test_mobile_typed_with_full_width_digits_is_normalised_to_ascii() -> None:
    assert normalise_mobile("138１２３４５６７８") == "13812345678"
    assert normalise_mobile("１３８１２３４５６７８") == "13812345678"


def test_email_is_trimmed_and_kept_as_written() -> None:
    assert normalise_email("  Zhang.San@Example.com ") == "Zhang.San@Example.com"


@pytest.mark.parametrize(
    "raw",
    ["zhangsan", "zhangsan@", "@example.com", "zhang san@example.com", "a@b", "a@@example.com"],
)
def test_malformed_email_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="email"):
        normalise_email(raw)


def test_overlong_email_is_refused() -> None:
    with pytest.raises(ValueError, match="email"):
        normalise_email("a" * 64 + "@" + "b" * 190 + ".com")


def test_status_moves_forward() -> None:
    assert advances("received", "awaiting_dispatch")
    assert advances("received", "dispatched")
    assert advances("awaiting_dispatch", "dispatched")


@pytest.mark.parametrize(
    ("current", "late"),
    [
        ("dispatched", "received"),
        ("dispatched", "awaiting_dispatch"),
        ("awaiting_dispatch", "received"),
        ("received", "received"),
        ("dispatched", "dispatched"),
    ],
)
def test_late_or_replayed_status_does_not_turn_the_clock_back(current: str, late: str) -> None:
    assert not advances(current, late)
