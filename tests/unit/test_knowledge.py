"""Knowledge-base search: Chinese without a dictionary, the closest answer first."""

from __future__ import annotations

from services.intake.knowledge import Searchable, SearchIndex, terms

ENTRIES = [
    Searchable(
        1,
        "社会保障卡丢失了怎么补办？",
        "带身份证到县社保大厅挂失补办。",
        "社保卡 补卡 挂失",
        "社会保障",
    ),
    Searchable(2, "医保报销需要哪些材料？", "发票、费用清单、出院小结。", "医保 报销", "社会保障"),
    Searchable(
        3, "孩子转学怎么办理？", "先联系转入学校，再到教育局学籍科办理。", "转学 学籍", "教育"
    ),
    Searchable(4, "怎么办理居住证？", "到派出所户籍窗口办理，带租房合同。", "居住证 暂住证", None),
    Searchable(
        5, "How do I renew a passport?", "Apply at the county exit-entry office.", "passport", None
    ),
]


def ranked(query: str) -> list[int]:
    return [entry_id for entry_id, _ in SearchIndex(ENTRIES).search(query)]


def test_chinese_runs_become_bigrams_and_latin_words_stay_whole() -> None:
    assert terms("社保卡丢了") == ["社保", "保卡", "卡丢", "丢了"]
    assert terms("办 ETC 卡") == ["办", "etc", "卡"]
    # Full-width letters and digits are the same as half-width ones.
    assert terms("ＥＴＣ１２３") == ["etc123"]


def test_the_entry_sharing_the_most_telling_words_comes_first() -> None:
    assert ranked("社保卡丢了怎么补")[0] == 1
    assert ranked("医保怎么报销")[0] == 2
    assert ranked("孩子要转学")[0] == 3
    assert ranked("居住证在哪里办")[0] == 4
    assert ranked("passport renewal")[0] == 5


def test_a_keyword_finds_an_entry_whose_question_does_not_say_it() -> None:
    assert ranked("暂住证")[0] == 4


def test_common_words_weigh_less_than_rare_ones() -> None:
    # "怎么" and "办理" appear in several entries; "学籍" in one.
    assert ranked("怎么办理学籍")[0] == 3


def test_no_shared_term_means_no_result() -> None:
    assert ranked("护照") == []
    assert ranked("  ，。") == []
    assert SearchIndex([]).search("社保") == []


def test_a_verbatim_question_outranks_a_partial_match() -> None:
    scores = dict(SearchIndex(ENTRIES).search("医保报销需要哪些材料"))
    assert scores[2] == max(scores.values())


def test_results_are_limited_and_ties_keep_the_older_entry_first() -> None:
    twins = [Searchable(i, "路灯坏了", "报修", "", None) for i in (7, 3, 5)]
    assert [i for i, _ in SearchIndex(twins).search("路灯", limit=2)] == [3, 5]
