"""The assessment rules file: the one shipped with reporting, one named by the environment, and
bad files refused with the rule and the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.reporting.assessment import (
    CONDITIONS,
    DEFAULT_RULES,
    RULES_VARIABLE,
    Rule,
    RulesError,
    configured_rules,
    load_rules,
    parse_rules,
)

FIRST = """
[[rule]]
id = "on-time"
name = "按时办结"
name_en = "Resolved on time"
cases = "resolved-with-deadline"
when = "on-time"
weight = 30
"""
SECOND = {
    "id": '"returns"',
    "name": '"退单"',
    "name_en": '"Returns"',
    "cases": '"dispatched"',
    "when": '"returned"',
    "points": "-1",
    "per": '"each"',
    "cap": "10",
    "applies_to": '["department"]',
}


def with_field(field: str, value: str | None) -> str:
    """The two rules, the second's `field` set to `value` (None: left out)."""
    second = {**SECOND, field: value}
    lines = [f"{name} = {text}" for name, text in second.items() if text is not None]
    return FIRST + "\n[[rule]]\n" + "\n".join(lines) + "\n"


GOOD = with_field("id", '"returns"')


def test_the_shipped_rules_cover_on_time_satisfaction_returns_rehandles_and_revisits() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert {r.when for r in rules} >= {"on-time", "satisfied", "returned", "rehandled", "revisited"}
    assert configured_rules({}) == rules


def test_returns_count_against_the_returning_department_and_no_other_condition_does() -> None:
    shipped = {r.id: r for r in load_rules(DEFAULT_RULES)}
    returns = shipped["returns"]
    assert (returns.cases, returns.when, returns.points, returns.per, returns.cap) == (
        "dispatched",
        "returned",
        -1,
        "each",
        10,
    )
    # Only a return is the act of a department that may no longer hold the case; the rest of
    # a case (its resolution, rating, revisits) is the holder's.
    assert [when for when, c in CONDITIONS.items() if c.by_the_actor] == ["returned"]


def test_a_rules_file_named_in_the_environment_replaces_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD, encoding="utf-8")
    rules = configured_rules({RULES_VARIABLE: str(path)})
    assert rules == (
        Rule(
            "on-time",
            "按时办结",
            "Resolved on time",
            "resolved-with-deadline",
            "on-time",
            weight=30,
        ),
        Rule(
            "returns",
            "退单",
            "Returns",
            "dispatched",
            "returned",
            points=-1,
            per="each",
            cap=10,
            applies_to=("department",),
        ),
    )


def test_a_missing_rules_file_is_refused_by_its_name(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"absent\.toml: cannot read"):
        configured_rules({RULES_VARIABLE: str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", None, 'rule "returns": name: required'),
        ("name_en", '""', 'rule "returns": name_en: required'),
        ("cases", '"closed"', "rule \"returns\": cases: 'closed' is not one of"),
        ("when", '"fast"', "rule \"returns\": when: 'fast' is not one of"),
        ("when", '"satisfied"', "rule \"returns\": when: 'satisfied' needs cases = rated"),
        ("points", '"minus one"', 'rule "returns": points: must be a number'),
        ("points", "0", 'rule "returns": points: must not be 0'),
        ("points", None, 'rule "returns": points: give either points'),
        ("weight", "10", 'rule "returns": points: give either points'),
        ("per", '"month"', "rule \"returns\": per: 'month' is not case or each"),
        ("cap", "-3", 'rule "returns": cap: needs points, and must be more than 0'),
        ("cap", "true", 'rule "returns": cap: must be a number'),
        ("applies_to", '["county"]', 'rule "returns": applies_to: a list of'),
        ("applies_to", "[]", 'rule "returns": applies_to: a list of'),
        ("bonus", "3", 'rule "returns": bonus: unknown field'),
        ("id", '"Returns!"', "rule 2: id: required, lower-case"),
        ("id", '"on-time"', 'rule "on-time": id: appears twice'),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_the_field(
    field: str, value: str | None, message: str
) -> None:
    with pytest.raises(RulesError) as refused:
        parse_rules(with_field(field, value), "assessment rules rules.toml")
    assert str(refused.value).startswith("assessment rules rules.toml: ")
    assert message in str(refused.value)


def test_per_each_needs_a_condition_a_case_can_meet_more_than_once() -> None:
    text = GOOD.replace('when = "returned"', 'when = "not-revisited"').replace(
        'cases = "dispatched"', 'cases = "resolved"'
    )
    with pytest.raises(RulesError, match=r'rule "returns": per: each needs points'):
        parse_rules(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rule = [", "not valid TOML"),
        ("", "no rules"),
        ("rule = [1]", "rule 1: write it as a \\[\\[rule\\]\\] table"),
        ("[settings]\nx = 1\n" + GOOD, "unknown section 'settings'"),
    ],
)
def test_a_file_that_is_no_rules_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(text)


def test_each_rule_reads_as_a_sentence_in_both_languages() -> None:
    rules = {r.id: r.definition() for r in parse_rules(GOOD)}
    assert rules["returns"].en == (
        "-1 points each time for the cases first dispatched in the period that were returned "
        "(退单), taking at most 10 in all"
    )
    assert rules["returns"].zh == "期内首次派单的诉求中被退单的，每次 -1 分，合计扣分不超过 10 分"
    assert rules["on-time"].zh == "30 × 期内首次办结且有办理期限的诉求中在办理期限内办结的比例"
