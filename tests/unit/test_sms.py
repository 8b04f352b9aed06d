"""SMS length as carriers bill it: GSM-7 160/153 per part, UCS-2 70/67."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.sms import is_gsm7, segments, split, units


def test_plain_latin_text_is_gsm7() -> None:
    assert is_gsm7("Your case 20261127-000001 was received. Code: 7K3MPX @ £5 é")


@pytest.mark.parametrize("text", ["您的诉求已受理", "【宁海12345】", "ça", "😀"])
def test_text_outside_the_gsm7_alphabet_is_not_gsm7(text: str) -> None:
    assert not is_gsm7(text)


@pytest.mark.parametrize("char", ["^", "{", "}", "\\", "[", "~", "]", "|", "€"])
def test_gsm7_extension_character_counts_two_units(char: str) -> None:
    assert is_gsm7(char)
    assert units("a" + char) == 3


def test_extension_character_pushes_160_characters_into_two_parts() -> None:
    text = "a" * 159 + "€"

    assert len(text) == 160
    assert units(text) == 161
    assert segments(text) == 2


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3)],
)
def test_gsm7_part_boundaries(length: int, parts: int) -> None:
    assert segments("a" * length) == parts


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)],
)
def test_ucs2_part_boundaries(length: int, parts: int) -> None:
    assert segments("中" * length) == parts


def test_one_chinese_character_turns_the_whole_message_into_ucs2() -> None:
    text = "a" * 70 + "中"

    assert units(text) == 71
    assert segments(text) == 2


def test_emoji_counts_two_ucs2_units() -> None:
    assert units("😀") == 2
    assert segments("中" * 68 + "😀") == 1
    assert segments("中" * 69 + "😀") == 2


def test_an_escape_sequence_is_never_cut_between_two_parts() -> None:
    # 152 plain septets, then "€" (two septets) would straddle the first part's end.
    text = "a" * 152 + "€" + "a" * 10

    assert units(text) == 164
    assert [units(part) for part in split(text)] == [152, 12]


def test_a_surrogate_pair_is_never_cut_between_two_parts() -> None:
    text = "中" * 66 + "😀" + "中" * 10

    assert units(text) == 78
    assert split(text) == ["中" * 66, "😀" + "中" * 10]
    assert segments(text) == 2


def test_a_message_that_fits_in_full_parts_needs_no_extra_part() -> None:
    assert segments("中" * 67 * 3) == 3
    assert segments("a" * 153 * 2) == 2
    assert segments("a" * 153 * 2 + "a") == 3


def test_form_feed_is_an_extension_character() -> None:
    assert units("\f") == 2


def units_one_by_one(text: str) -> int:
    """The carriers' rule, one character at a time."""
    if is_gsm7(text):
        return sum(2 if c in "^{}\\[~]|€\f" else 1 for c in text)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


@given(st.text(alphabet="aZ9 @é€^{}\\[~]|\f😀您【】\n", max_size=400))
def test_units_count_every_character_as_carriers_do(text: str) -> None:
    assert units(text) == units_one_by_one(text)
