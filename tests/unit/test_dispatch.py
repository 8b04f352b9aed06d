"""Routing's choice of department, and the dispatch catalogue it is built from."""

from __future__ import annotations

from collections import defaultdict

import pytest

from services.routing.catalogue import CatalogueError, load_catalogue, parse_catalogue
from services.routing.dispatch import Rules, decide

COUNTY_DEPARTMENTS = {
    "edu",
    "hrss",
    "union",
    "yuexi",
    "housing",
    "health",
    "env",
    "transport",
    "commerce",
}

SMALL_RULES = Rules(
    by_category={"教育": "edu", "环保": "env"},
    keywords={
        "edu": ("学校", "转学", "老师"),
        "env": ("污水", "噪音", "异味"),
        "housing": ("小区", "物业", "路灯"),
    },
)


def catalogue_rules() -> Rules:
    """Rules from the real catalogue, built the way routing's `read_catalogue` builds them."""
    by_category: dict[str, str] = {}
    keywords: dict[str, list[str]] = defaultdict(list)
    for entry in load_catalogue():
        for category in entry.categories:
            by_category[category] = entry.code
        keywords[entry.code].extend(entry.keywords)
    return Rules(by_category, {code: tuple(words) for code, words in keywords.items()})


def test_named_category_wins_over_keywords_of_another_department() -> None:
    decision = decide(SMALL_RULES, "教育", "小区物业不管路灯，污水横流")

    assert decision.department_code == "edu"
    assert not decision.needs_dispatcher
    assert decision.matched_by == "category:教育"


def test_unknown_category_falls_back_to_keywords() -> None:
    decision = decide(SMALL_RULES, "不存在的类别", "小区物业不管事")

    assert decision.department_code == "housing"
    assert decision.matched_by.startswith("keywords:")


def test_department_mentioned_most_is_chosen_and_matched_by_names_its_keywords() -> None:
    decision = decide(SMALL_RULES, None, "学校的老师说污水问题不归他们管，转学也难")

    assert decision.department_code == "edu"
    assert decision.matched_by == "keywords:学校,转学,老师"


def test_matched_by_lists_at_most_five_keywords() -> None:
    rules = Rules(by_category={}, keywords={"housing": ("一", "二", "三", "四", "五", "六")})

    decision = decide(rules, None, "一二三四五六")

    assert decision.department_code == "housing"
    assert decision.matched_by == "keywords:一,二,三,四,五"


def test_keyword_tie_goes_to_dispatcher_naming_only_the_tied_departments() -> None:
    decision = decide(SMALL_RULES, None, "学校旁边的小区有噪音，老师和物业都不管")

    assert decision.department_code is None
    assert decision.needs_dispatcher
    assert decision.matched_by.startswith("keywords tie between ")
    tied = set(decision.matched_by.removeprefix("keywords tie between ").split(", "))
    assert tied == {"edu", "housing"}


def test_description_mentioning_no_keyword_goes_to_dispatcher() -> None:
    decision = decide(SMALL_RULES, None, "请问今天县政府几点下班？")

    assert decision.department_code is None
    assert decision.needs_dispatcher
    assert decision.matched_by == "no rule matched"


def test_empty_rules_send_everything_to_dispatcher() -> None:
    decision = decide(Rules(by_category={}, keywords={}), "教育", "学校")

    assert decision.needs_dispatcher
    assert decision.matched_by == "no rule matched"


def test_real_catalogue_includes_the_departments_the_county_started_with() -> None:
    codes = {entry.code for entry in load_catalogue()}

    assert codes >= COUNTY_DEPARTMENTS


def test_every_catalogue_department_has_a_name_and_a_keyword() -> None:
    for entry in load_catalogue():
        assert entry.name.strip(), entry.code
        assert entry.keywords, entry.code
        assert all(word.strip() for word in entry.keywords), entry.code


def test_no_category_in_the_real_catalogue_is_claimed_by_two_departments() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for entry in load_catalogue():
        for category in entry.categories:
            owners[category].append(entry.code)

    assert {c: codes for c, codes in owners.items() if len(codes) > 1} == {}


def test_department_without_english_name_uses_its_chinese_name() -> None:
    entries = parse_catalogue('[[departments]]\ncode = "edu"\nname = "县教育局"\n')

    assert entries[0].name_en == "县教育局"
    assert entries[0].categories == ()
    assert entries[0].keywords == ()


def test_catalogue_with_a_duplicate_code_is_refused() -> None:
    text = (
        '[[departments]]\ncode = "edu"\nname = "县教育局"\n'
        '[[departments]]\ncode = "edu"\nname = "县教育体育局"\n'
    )

    with pytest.raises(CatalogueError, match="twice"):
        parse_catalogue(text)


@pytest.mark.parametrize(
    "text",
    [
        '[[departments]\ncode = "edu"\n',
        '[[departments]]\ncode = "edu"\n',
        'title = "no departments"\n',
        '[[departments]]\ncode = "edu"\nname = "县教育局"\nkeywords = 3\n',
    ],
    ids=["malformed-toml", "missing-name", "no-departments-table", "keywords-not-a-list"],
)
def test_malformed_catalogue_is_refused(text: str) -> None:
    with pytest.raises(CatalogueError, match="dispatch catalogue"):
        parse_catalogue(text)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("孩子随父母来县城务工，想办理转学，学校说没有学位了，请问怎么办", "edu"),
        ("我在工地干了半年，老板拖欠工资三个月不发，也从来没给我们交社保", "hrss"),
        ("我们小区门口的路灯坏了两个多星期，晚上一片漆黑，找物业也没人管", "housing"),
        ("城东化工厂夜里把污水直排进河里，河水发黑发臭", "env"),
        ("12路公交车经常不按时发车，在站台上等了四十分钟都没来", "transport"),
        ("乡卫生院的医生态度很差，看病要排队两个小时", "health"),
        ("超市卖过期商品，价格标签也乱标", "commerce"),
    ],
)
def test_realistic_descriptions_reach_the_right_department(description: str, expected: str) -> None:
    decision = decide(catalogue_rules(), None, description)

    assert decision.department_code == expected, decision.matched_by


def test_realistic_category_from_the_catalogue_wins_over_the_description() -> None:
    decision = decide(catalogue_rules(), "劳动和社会保障", "学校食堂的临时工被拖欠工资")

    assert decision.department_code == "hrss"
    assert decision.matched_by == "category:劳动和社会保障"


def test_realistic_ambiguous_description_waits_for_the_dispatcher() -> None:
    decision = decide(catalogue_rules(), None, "小区里面有噪音，吵得睡不着")

    assert decision.needs_dispatcher
    assert "housing" in decision.matched_by
    assert "env" in decision.matched_by


def test_realistic_unrelated_question_waits_for_the_dispatcher() -> None:
    decision = decide(catalogue_rules(), None, "我想问一下明天会不会下雨")

    assert decision.needs_dispatcher
    assert decision.matched_by == "no rule matched"
