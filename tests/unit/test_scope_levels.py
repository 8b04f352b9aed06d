"""Scope levels: suggested from the text, driving the tier and the deadline's kind."""

from __future__ import annotations

import pytest

from services.routing.major import major_reasons, priority
from services.routing.scope import deadline_limit_key, handling_tier, suggest_scope


@pytest.mark.parametrize(
    ("text", "level", "word"),
    [
        ("全镇的自来水都停了", "society", "全镇"),
        ("我们村里已经停电三天", "village", "村里"),
        ("我们组的水渠堵了", "villager-group", "我们组"),
        ("我家门口的路灯坏了", "family", "我家"),
        ("本人想咨询社保缴费", "individual", "本人"),
        ("我家和全村的水都停了", "village", "全村"),
    ],
)
def test_the_broadest_level_the_text_names_is_suggested(text: str, level: str, word: str) -> None:
    assert suggest_scope(text) == (level, word)


def test_a_text_naming_no_level_is_suggested_as_one_persons_matter() -> None:
    assert suggest_scope("请问社保怎么交") == ("individual", None)


def test_the_scope_decides_the_lowest_tier_that_may_handle_it() -> None:
    assert handling_tier("society") == "county"
    assert handling_tier("village") == "township"
    assert handling_tier("villager-group") == "village"
    assert handling_tier("individual") == "village"


def test_the_deadline_key_is_major_for_major_matters_whatever_the_kind() -> None:
    assert deadline_limit_key("consultation", "individual", major=True) == "major"


def test_collective_help_and_complaints_get_the_collective_limit() -> None:
    assert deadline_limit_key("complaint", "village", major=False) == "complaint:collective"
    assert deadline_limit_key("help", "villager-group", major=False) == "help:collective"
    assert deadline_limit_key("complaint", "family", major=False) == "complaint"
    assert deadline_limit_key("suggestion", "society", major=False) == "suggestion"
    assert deadline_limit_key("consultation", None, major=False) == "consultation"


def test_every_reason_for_a_major_matter_is_named() -> None:
    reasons = major_reasons("仓库火灾", ("火灾", "爆炸"), "society", "extra-urgent", ("fire",))

    assert reasons == ("keyword:火灾", "scope:society", "operator", "rule:fire")
    assert major_reasons("路灯坏了", ("火灾",), "family", "urgent") == ()


def test_a_major_matter_is_extra_urgent_and_others_keep_their_urgency() -> None:
    assert priority("normal", major=True) == "extra-urgent"
    assert priority("urgent", major=False) == "urgent"
