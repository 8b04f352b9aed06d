"""Which language a citizen gets, and validation errors worded in it."""

import pytest

from services.kernel.language import InvalidValue, error_message, preferred_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.3,zh-TW;q=0.5", "zh"),
        ("fr,en;q=0.5", "en"),
        ("fr,de", "zh"),
        ("en;q=bogus", "zh"),
    ],
)
def test_chinese_unless_english_ranks_higher(header: str | None, language: str) -> None:
    assert preferred_language(header) == language


def test_pydantic_errors_are_worded_in_chinese_with_their_limits() -> None:
    too_long = {"type": "string_too_long", "msg": "x", "ctx": {"max_length": 64}}
    assert error_message(too_long, "zh") == "最多 64 个字符"
    assert error_message(too_long, "en") == "x"
    assert error_message({"type": "missing", "msg": "Field required"}, "zh") == "必须填写"


def test_a_rules_own_refusal_carries_both_wordings() -> None:
    error = {
        "type": "value_error",
        "msg": "Value error, a",
        "ctx": {"error": InvalidValue("a", "甲")},
    }
    assert error_message(error, "zh") == "甲"
    assert error_message(error, "en") == "a"


def test_an_unknown_error_type_falls_back_to_pydantics_words() -> None:
    assert error_message({"type": "brand_new", "msg": "Something"}, "zh") == "Something"


def test_a_list_of_choices_is_joined_the_chinese_way() -> None:
    error = {
        "type": "literal_error",
        "msg": "x",
        "ctx": {"expected": "'help', 'complaint' or 'praise'"},
    }
    assert error_message(error, "zh") == "只能是以下之一：'help'、'complaint'、'praise'"
