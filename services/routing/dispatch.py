"""Choosing the departments for a case: pure rules over the dispatch catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from services.kernel.events.contracts import CaseSubmitted, ScopeLevel, Urgency
from services.kernel.language import InvalidValue
from services.routing.major import major_reasons, priority
from services.routing.scope import handling_tier, suggest_scope

DepartmentKind = Literal["functional", "township", "village", "villager-group"]
DEPARTMENT_KINDS: tuple[DepartmentKind, ...] = (
    "functional",
    "township",
    "village",
    "villager-group",
)
TerritoryLevel = Literal["township", "village", "villager-group"]
TERRITORY_LEVELS: tuple[TerritoryLevel, ...] = ("township", "village", "villager-group")
# Units at these tiers are self-governing committees, not government: a county department's
# statutory duty is never theirs to lead (the "no pushing down" rule of grassroots governance).
VILLAGE_TIERS: frozenset[str] = frozenset({"village", "villager-group"})


@dataclass(frozen=True)
class Territory:
    code: str
    name: str
    level: TerritoryLevel
    parent: str | None = None


@dataclass(frozen=True)
class DispatchRule:
    """One version of a rule: the case facts it names, and who handles such a case."""

    key: str
    version: int
    lead: str
    co: tuple[str, ...] = ()
    kind: str | None = None
    category: str | None = None
    territory: str | None = None
    scope_level: ScopeLevel | None = None
    keywords: tuple[str, ...] = ()
    major: bool = False
    effective_from: date = date.min
    effective_to: date | None = None  # the last day it applies; None: until replaced
    retired: bool = False  # a retirement is a version too, so the history stays whole

    def effective_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def conditions(self) -> int:
        named = (self.kind, self.category, self.territory, self.scope_level)
        return sum(value is not None for value in named) + bool(self.keywords)


@dataclass(frozen=True)
class Rules:
    """Everything dispatching reads: rules, the departments' own terms, territories, kinds."""

    by_category: dict[str, str]
    keywords: dict[str, tuple[str, ...]]
    rules: tuple[DispatchRule, ...] = ()
    territories: dict[str, Territory] = field(default_factory=dict)
    department_kinds: dict[str, str] = field(default_factory=dict)
    # The township or village government of a territory, by territory code.
    territorial: dict[str, str] = field(default_factory=dict)
    major_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseFacts:
    """What a case says about itself, as dispatching sees it."""

    description: str
    category: str | None = None
    kind: str | None = None
    address: str | None = None
    scope_level: ScopeLevel | None = None
    urgency: Urgency = "normal"


@dataclass(frozen=True)
class Decision:
    department_code: str | None
    matched_by: str
    co_departments: tuple[str, ...] = ()
    scope_level: ScopeLevel | None = None
    scope_suggested: bool = False
    territory: str | None = None
    major_reasons: tuple[str, ...] = ()

    @property
    def needs_dispatcher(self) -> bool:
        return self.department_code is None

    @property
    def major(self) -> bool:
        return bool(self.major_reasons)


def effective_rules(rules: tuple[DispatchRule, ...], day: date) -> list[DispatchRule]:
    """Per rule key, the newest version in force on `day`, unless that version retires it.

    An older version still applies on days a newer one does not yet cover, so an edit that takes
    effect next month leaves this month's routing as it was.
    """
    newest: dict[str, DispatchRule] = {}
    for rule in rules:
        current = newest.get(rule.key)
        if rule.effective_on(day) and (current is None or rule.version > current.version):
            newest[rule.key] = rule
    return [rule for rule in newest.values() if not rule.retired]


def locate(territories: Mapping[str, Territory], text: str) -> str | None:
    """The most local territory the text names (a villager group before its village)."""
    depth = {level: n for n, level in enumerate(TERRITORY_LEVELS)}
    named = [t for t in territories.values() if t.name and t.name in text]
    if not named:
        return None
    return max(named, key=lambda t: (depth[t.level], len(t.name))).code


def lineage(territories: Mapping[str, Territory], code: str | None) -> list[str]:
    """The territory and its ancestors, most local first."""
    chain: list[str] = []
    while code is not None and code in territories and code not in chain:
        chain.append(code)
        code = territories[code].parent
    return chain


def _hits(rule: DispatchRule, facts: CaseFacts, scope: ScopeLevel, place: list[str]) -> int | None:
    """How many of its keywords the case mentions if the rule matches the case, else None."""
    if rule.kind is not None and rule.kind != facts.kind:
        return None
    if rule.category is not None and rule.category != facts.category:
        return None
    if rule.territory is not None and rule.territory not in place:
        return None
    if rule.scope_level is not None and rule.scope_level != scope:
        return None
    found = sum(word in facts.description for word in rule.keywords)
    if rule.keywords and not found:
        return None
    return found


def _specificity(
    rule: DispatchRule, hits: int, territories: Mapping[str, Territory]
) -> tuple[int, int, int, bool]:
    # Precedence, most specific first: a rule naming more of the case's facts (kind, category,
    # territory, scope level, keywords) knows more about it than one naming fewer; between
    # equals, the one for the more local territory (a villager group's rule over its village's,
    # that over the township's); then the one whose keywords the text mentions more often; last,
    # a rule for major matters, whose lead must not wait for the dispatcher to break a tie.
    return rule.conditions, len(lineage(territories, rule.territory)), hits, rule.major


def decide(
    rules: Rules,
    category: str | None,
    description: str,
    *,
    facts: CaseFacts | None = None,
    on: date | None = None,
) -> Decision:
    """The lead and co-handling departments for a case, or the dispatcher when unsure.

    The catalogue's rules in force on `on` come first, the most specific winning; without a
    matching rule the named category wins; else the department whose keywords the text
    mentions most. A tie at any step is not a guess we make: the dispatcher decides.
    """
    facts = facts or CaseFacts(description=description, category=category)
    text = f"{facts.address or ''} {description}"
    suggested = facts.scope_level is None
    scope = suggest_scope(description)[0] if facts.scope_level is None else facts.scope_level
    territory = locate(rules.territories, text)
    place = lineage(rules.territories, territory)
    matching = []
    for rule in effective_rules(rules.rules, on) if on is not None else ():
        hits = _hits(rule, facts, scope, place)
        if hits is not None:
            matching.append((_specificity(rule, hits, rules.territories), rule))
    matching.sort(key=lambda item: item[0], reverse=True)
    reasons = major_reasons(
        description,
        rules.major_keywords,
        scope,
        facts.urgency,
        tuple(rule.key for _, rule in matching if rule.major),
    )
    base = Decision(
        None,
        "no rule matched",
        scope_level=scope,
        scope_suggested=suggested,
        territory=territory,
        major_reasons=reasons,
    )
    if matching:
        top, winner = matching[0]
        rivals = {rule.lead for rank, rule in matching if rank == top}
        if len(rivals) > 1:
            tied = ", ".join([rule.key for rank, rule in matching if rank == top][:5])
            return _with(base, None, f"rules tie between {tied}")
        co = winner.co
        if reasons:
            # Rapid response: every department a matching rule names works the case at once.
            co = tuple(dict.fromkeys(c for _, rule in matching for c in (rule.lead, *rule.co)))
        co = tuple(code for code in co if code != winner.lead)
        return _with(base, winner.lead, f"rule:{winner.key}@v{winner.version}", co)
    lead, matched_by = _by_terms(rules, category, description)
    if lead is None:
        lead, matched_by = _by_territory(rules, place, scope) or (None, matched_by)
    return _with(base, lead, matched_by)


def _with(base: Decision, lead: str | None, matched_by: str, co: tuple[str, ...] = ()) -> Decision:
    return Decision(
        lead,
        matched_by,
        co,
        base.scope_level,
        base.scope_suggested,
        base.territory,
        base.major_reasons,
    )


def _by_terms(rules: Rules, category: str | None, description: str) -> tuple[str | None, str]:
    if category is not None and category in rules.by_category:
        return rules.by_category[category], f"category:{category}"
    hits = {code: [w for w in words if w in description] for code, words in rules.keywords.items()}
    ranked = sorted(hits.items(), key=lambda item: len(item[1]), reverse=True)
    if not ranked or not ranked[0][1]:
        return None, "no rule matched"
    if len(ranked) > 1 and len(ranked[1][1]) == len(ranked[0][1]):
        tied = ", ".join(code for code, words in ranked if len(words) == len(ranked[0][1]))
        return None, f"keywords tie between {tied}"
    code, words = ranked[0]
    return code, "keywords:" + ",".join(words[:5])


def _by_territory(rules: Rules, place: list[str], scope: ScopeLevel) -> tuple[str, str] | None:
    """A place-bound matter no department claims: the government of the tier its scope needs.

    Walks up from the place the text names to the first territory at or above that tier which
    has its own government (a villager group's matter rises to its village committee).
    """
    tier = handling_tier(scope)
    if tier == "county":
        return None
    levels = TERRITORY_LEVELS[: TERRITORY_LEVELS.index(tier) + 1]
    for code in place:
        if rules.territories[code].level in levels and code in rules.territorial:
            return rules.territorial[code], f"territory:{code},scope:{scope}"
    return None


def push_down_refusal(
    rules: Rules, category: str | None, lead: str, co: tuple[str, ...] = ()
) -> InvalidValue | None:
    """Why handing this matter to `lead` pushes a functional department's duty down, or None.

    A matter is a functional department's when its category belongs to one, or when a
    functional department is named among its co-handlers; such a matter may not be led by a
    village or villager-group unit.
    """
    kinds = rules.department_kinds
    if kinds.get(lead) not in VILLAGE_TIERS:
        return None
    owner = rules.by_category.get(category) if category is not None else None
    functional = [c for c in (owner, *co) if c is not None and kinds.get(c) == "functional"]
    if not functional:
        return None
    return InvalidValue(
        f"{lead} is a village-tier unit: it may not lead a matter of the functional department "
        f"{functional[0]}",
        f"{lead} 是村级组织，不得承办职能部门 {functional[0]} 的事项（职能部门事项不得下推至村）",
    )


def case_facts(event: CaseSubmitted) -> CaseFacts:
    return CaseFacts(
        description=event.description,
        category=event.category,
        kind=event.kind,
        address=event.location.address if event.location else None,
        scope_level=event.scope_level,
        urgency=event.urgency,
    )


def order_columns(decision: Decision, urgency: Urgency) -> dict[str, Any]:
    """What a decision adds to the lead's work order, beyond the department."""
    return {
        "scope_level": decision.scope_level,
        "scope_suggested": decision.scope_suggested,
        "territory_code": decision.territory,
        "major": decision.major,
        "priority": priority(urgency, decision.major),
        "co_department_codes": list(decision.co_departments),
    }
