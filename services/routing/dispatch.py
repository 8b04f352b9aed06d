"""Choosing the department for a case: pure rules over the catalogue's terms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """Category → department, and each department's keywords."""

    by_category: dict[str, str]
    keywords: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Decision:
    department_code: str | None
    matched_by: str

    @property
    def needs_dispatcher(self) -> bool:
        return self.department_code is None


def decide(rules: Rules, category: str | None, description: str) -> Decision:
    """The named category wins; else the department whose keywords the text mentions most.

    A tie or no mention at all is not a guess we make: the dispatcher decides.
    """
    if category is not None and category in rules.by_category:
        return Decision(rules.by_category[category], f"category:{category}")
    hits = {code: [w for w in words if w in description] for code, words in rules.keywords.items()}
    ranked = sorted(hits.items(), key=lambda item: len(item[1]), reverse=True)
    if not ranked or not ranked[0][1]:
        return Decision(None, "no rule matched")
    if len(ranked) > 1 and len(ranked[1][1]) == len(ranked[0][1]):
        tied = ", ".join(code for code, words in ranked if len(words) == len(ranked[0][1]))
        return Decision(None, f"keywords tie between {tied}")
    code, words = ranked[0]
    return Decision(code, "keywords:" + ",".join(words[:5]))
