"""A case's scope level: how many people it touches, which tier handles it, which deadline."""

from __future__ import annotations

from typing import Literal

from services.kernel.events.contracts import Kind, ScopeLevel

Tier = Literal["county", "township", "village"]

# Broadest first: a text that mentions both the whole village and one family is a village matter.
SCOPE_LEVELS: tuple[ScopeLevel, ...] = (
    "society",
    "village",
    "villager-group",
    "family",
    "individual",
)
DEFAULT_SCOPE: ScopeLevel = "individual"
SCOPE_WORDS: dict[ScopeLevel, tuple[str, ...]] = {
    "society": ("全县", "全镇", "全乡", "全市", "全社会", "社会面", "多个村", "几个村", "各村"),
    "village": ("全村", "整个村", "村里", "村民们", "各组", "几个组", "村里人"),
    "villager-group": ("村民小组", "小组", "组里", "我们组", "全组", "组上"),
    "family": ("我家", "我们家", "家里", "家人", "家中", "父母", "孩子", "老人"),
    "individual": ("本人", "我个人", "我自己"),
}
# The lowest tier that can handle a matter of each scope: a matter touching a whole village is
# beyond one village committee, a county-wide one beyond one township.
TIER_BY_SCOPE: dict[ScopeLevel, Tier] = {
    "society": "county",
    "village": "township",
    "villager-group": "village",
    "family": "village",
    "individual": "village",
}
# Matters touching many people get the shorter "collective" limit where the kind has one.
COLLECTIVE_SCOPES = frozenset({"society", "village", "villager-group"})
KINDS_WITH_COLLECTIVE_LIMIT = frozenset({"help", "complaint"})


def suggest_scope(text: str) -> tuple[ScopeLevel, str | None]:
    """The broadest level whose words the text uses, and the word; else individual, None."""
    for level in SCOPE_LEVELS:
        for word in SCOPE_WORDS[level]:
            if word in text:
                return level, word
    return DEFAULT_SCOPE, None


def handling_tier(scope: ScopeLevel) -> Tier:
    return TIER_BY_SCOPE[scope]


def deadline_limit_key(kind: Kind, scope: ScopeLevel | None, major: bool) -> str:
    """The key of the default deadline limit: `major`, `<kind>` or `<kind>:collective`.

    Major matters are counted in hours whatever their kind; a help request or complaint that
    touches a group, a village or more is owed a quicker answer than one person's.
    """
    if major:
        return "major"
    if scope in COLLECTIVE_SCOPES and kind in KINDS_WITH_COLLECTIVE_LIMIT:
        return f"{kind}:collective"
    return kind
