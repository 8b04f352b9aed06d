"""Dispatch rules: the most specific rule in force wins; the village guard; major matters."""

from __future__ import annotations

from datetime import date

import pytest

from services.routing.catalogue import CatalogueError, load_catalogue_file, parse_catalogue_file
from services.routing.dispatch import (
    CaseFacts,
    DispatchRule,
    Rules,
    Territory,
    decide,
    effective_rules,
    locate,
    push_down_refusal,
)

DAY = date(2026, 6, 1)
TERRITORIES = {
    "yx": Territory("yx", "越溪乡", "township"),
    "ty": Territory("ty", "桃源村", "village", "yx"),
    "ty3": Territory("ty3", "桃源村三组", "villager-group", "ty"),
}
KINDS = {
    "housing": "functional",
    "env": "functional",
    "health": "functional",
    "edu": "functional",
    "yuexi": "township",
    "taoyuan": "village",
}


def rules(*dispatch_rules: DispatchRule, **extra: object) -> Rules:
    return Rules(
        by_category={"教育": "edu", "城乡建设": "housing"},
        keywords={"housing": ("停水", "物业"), "env": ("污水",)},
        rules=dispatch_rules,
        territories=TERRITORIES,
        department_kinds=KINDS,
        territorial={"yx": "yuexi", "ty": "taoyuan"},
        **extra,  # type: ignore[arg-type]
    )


def case(description: str, **facts: object) -> CaseFacts:
    return CaseFacts(description=description, **facts)  # type: ignore[arg-type]


def test_a_rule_in_force_beats_the_departments_own_keywords_and_names_co_handlers() -> None:
    rule = DispatchRule("water", 1, lead="yuexi", co=("housing",), keywords=("停水",))

    decision = decide(rules(rule), None, "桃源村停水了", facts=case("桃源村停水了"), on=DAY)

    assert decision.department_code == "yuexi"
    assert decision.co_departments == ("housing",)
    assert decision.matched_by == "rule:water@v1"


def test_the_rule_naming_more_facts_wins_and_a_deeper_territory_breaks_the_tie() -> None:
    broad = DispatchRule("broad", 1, lead="housing", keywords=("停水",))
    village = DispatchRule("village", 1, lead="yuexi", keywords=("停水",), territory="yx")
    group = DispatchRule("group", 1, lead="taoyuan", keywords=("停水",), territory="ty")
    text = "桃源村三组停水两天"

    decision = decide(rules(broad, village, group), None, text, facts=case(text), on=DAY)

    assert decision.department_code == "taoyuan"
    assert decision.territory == "ty3"


def test_rules_equally_specific_with_different_leads_wait_for_the_dispatcher() -> None:
    a = DispatchRule("a", 1, lead="housing", keywords=("停水",))
    b = DispatchRule("b", 1, lead="env", keywords=("停水",))

    decision = decide(rules(a, b), None, "停水", facts=case("停水"), on=DAY)

    assert decision.needs_dispatcher
    assert decision.matched_by == "rules tie between a, b"


def test_a_rule_applies_only_on_the_days_it_is_in_force() -> None:
    rule = DispatchRule(
        "summer",
        1,
        lead="yuexi",
        keywords=("停水",),
        effective_from=date(2026, 6, 1),
        effective_to=date(2026, 8, 31),
    )
    text = "停水"

    before = decide(rules(rule), None, text, facts=case(text), on=date(2026, 5, 31))
    during = decide(rules(rule), None, text, facts=case(text), on=date(2026, 8, 31))
    after = decide(rules(rule), None, text, facts=case(text), on=date(2026, 9, 1))

    assert (before.department_code, during.department_code, after.department_code) == (
        "housing",
        "yuexi",
        "housing",
    )


def test_a_new_version_rules_from_its_date_and_the_old_one_before_it() -> None:
    v1 = DispatchRule("water", 1, lead="housing", keywords=("停水",))
    v2 = DispatchRule("water", 2, lead="yuexi", keywords=("停水",), effective_from=date(2026, 7, 1))

    assert [r.lead for r in effective_rules((v1, v2), date(2026, 6, 30))] == ["housing"]
    assert [r.lead for r in effective_rules((v1, v2), date(2026, 7, 1))] == ["yuexi"]


def test_a_retirement_version_ends_the_rule_from_its_date() -> None:
    v1 = DispatchRule("water", 1, lead="yuexi", keywords=("停水",))
    retired = DispatchRule(
        "water", 2, lead="yuexi", keywords=("停水",), effective_from=date(2026, 7, 1), retired=True
    )

    assert effective_rules((v1, retired), date(2026, 6, 30)) == [v1]
    assert effective_rules((v1, retired), date(2026, 7, 1)) == []


def test_kind_category_and_scope_must_all_match_when_a_rule_names_them() -> None:
    rule = DispatchRule("c", 1, lead="yuexi", kind="complaint", scope_level="village")
    text = "全村的路坏了"

    complaint = decide(rules(rule), None, text, facts=case(text, kind="complaint"), on=DAY)
    help_request = decide(rules(rule), None, text, facts=case(text, kind="help"), on=DAY)

    assert complaint.department_code == "yuexi"
    assert help_request.department_code != "yuexi"


def test_without_a_rule_the_category_and_keywords_decide_as_before() -> None:
    decision = decide(rules(), "教育", "物业不管", on=DAY)

    assert decision.department_code == "edu"
    assert decision.matched_by == "category:教育"


def test_a_place_bound_matter_no_department_claims_goes_to_the_tier_its_scope_needs() -> None:
    group = decide(rules(), None, "桃源村三组的路灯不亮", on=DAY)
    village_wide = decide(rules(), None, "桃源村全村的路灯不亮", on=DAY)

    assert group.department_code == "taoyuan"
    assert group.matched_by == "territory:ty,scope:individual"
    assert village_wide.department_code == "yuexi"


def test_locate_prefers_the_most_local_territory_named() -> None:
    assert locate(TERRITORIES, "越溪乡桃源村三组") == "ty3"
    assert locate(TERRITORIES, "城关镇") is None


def test_a_major_matter_is_led_by_its_rule_and_sent_to_every_department_any_rule_names() -> None:
    leak = DispatchRule("leak", 2, lead="env", co=("health",), keywords=("泄漏",), major=True)
    water = DispatchRule("water", 1, lead="housing", co=("yuexi",), keywords=("停水",))
    text = "化工厂泄漏，全村停水"

    decision = decide(rules(leak, water), None, text, facts=case(text), on=DAY)

    assert decision.department_code == "env"
    assert set(decision.co_departments) == {"health", "housing", "yuexi"}
    assert decision.major
    assert "rule:leak" in decision.major_reasons


def test_a_major_keyword_or_the_operators_flag_makes_a_case_major() -> None:
    with_words = rules(major_keywords=("爆炸",))

    assert decide(with_words, None, "工厂爆炸了", on=DAY).major_reasons == ("keyword:爆炸",)
    flagged = decide(with_words, None, "路灯坏了", facts=case("路灯坏了", urgency="extra-urgent"))
    assert flagged.major_reasons == ("operator",)
    assert not decide(with_words, None, "路灯坏了", on=DAY).major


def test_a_society_wide_scope_set_by_the_operator_is_major_and_not_suggested() -> None:
    decision = decide(rules(), None, "路灯坏了", facts=case("路灯坏了", scope_level="society"))

    assert decision.scope_level == "society"
    assert not decision.scope_suggested
    assert decision.major_reasons == ("scope:society",)


def test_the_guard_refuses_a_village_unit_leading_a_functional_departments_matter() -> None:
    refusal = push_down_refusal(rules(), "城乡建设", "taoyuan")

    assert refusal is not None
    assert "housing" in refusal.en
    assert "不得" in refusal.zh


def test_the_guard_refuses_a_village_lead_with_a_functional_co_handler() -> None:
    assert push_down_refusal(rules(), None, "taoyuan", ("env",)) is not None


def test_the_guard_lets_a_township_lead_and_a_village_lead_its_own_matters() -> None:
    assert push_down_refusal(rules(), "城乡建设", "yuexi") is None
    assert push_down_refusal(rules(), None, "taoyuan", ("yuexi",)) is None
    assert push_down_refusal(rules(), "城乡建设", "housing", ("taoyuan",)) is None


def test_the_real_catalogue_loads_territories_rules_and_major_keywords() -> None:
    catalogue = load_catalogue_file()

    assert {t.level for t in catalogue.territories} == {"township", "village", "villager-group"}
    assert any(rule.major for rule in catalogue.rules)
    assert "爆炸" in catalogue.major_keywords
    kinds = {d.code: d.kind for d in catalogue.departments}
    assert kinds["edu"] == "functional"
    assert kinds["yuexi"] == "township"


@pytest.mark.parametrize(
    "extra",
    [
        '[[rules]]\nkey = "r"\nlead = "nobody"\nkeywords = ["x"]\n',
        '[[territories]]\ncode = "v"\nname = "v"\nlevel = "village"\nparent = "missing"\n',
        '[[territories]]\ncode = "v"\nname = "v"\nlevel = "county"\n',
    ],
    ids=["rule-with-unknown-lead", "territory-before-its-parent", "unknown-level"],
)
def test_a_catalogue_file_naming_what_it_does_not_define_is_refused(extra: str) -> None:
    text = '[[departments]]\ncode = "edu"\nname = "县教育局"\n' + extra

    with pytest.raises(CatalogueError, match="dispatch catalogue"):
        parse_catalogue_file(text)
