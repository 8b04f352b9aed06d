"""A small built corpus for the dispatch classifier's tests: three departments' messages."""

from __future__ import annotations

import random

TOPICS = {
    "edu": ["学校", "老师", "学生", "课外补课", "校车", "入学", "幼儿园", "学位"],
    "env": ["噪音", "污水", "排污", "废气", "臭味", "粉尘", "化工厂", "偷排"],
    "transport": ["公交车", "站台", "客运", "出租车", "班车", "线路", "公路", "驾校"],
}
OPENINGS = ["反映", "投诉", "建议", "请问", "我们小组"]
FILLER = ["最近", "情况", "希望", "尽快", "处理", "一下", "非常", "严重", "每天", "附近"]


def message(rng: random.Random, department: str) -> str:
    # One word of another department's in each, as real messages stray, so the model is not
    # certain of everything (and its calibration has something to learn).
    other = rng.choice([d for d in TOPICS if d != department])
    own, stray = rng.sample(TOPICS[department], 2), rng.choice(TOPICS[other])
    words = [*own, stray, *rng.sample(FILLER, 4)]
    rng.shuffle(words)
    return rng.choice(OPENINGS) + "，".join(words) + "。"


def corpus(per_department: int = 12, seed: int = 7) -> list[tuple[str, str]]:
    """(text, department) pairs, the same every time for a seed."""
    rng = random.Random(seed)
    return [(message(rng, d), d) for d in TOPICS for _ in range(per_department)]
