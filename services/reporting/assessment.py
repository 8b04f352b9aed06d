"""The assessment (考核): a score per department and per official from rules in configuration.

Every point names the rule that gave it and the cases that earned it, each with the fact behind
it ("resolved on 2026-11-16, 6 days after its deadline 2026-11-10"), so whoever is assessed can
check each point against the cases themselves. The rules are read from `assessment_rules.toml`
beside this module, or from the file `MINQING_ASSESSMENT_RULES` names; a bad file is refused
with the rule and the field at fault.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from services.kernel.workdays import is_working_day, local_date
from services.reporting.kpis import Period

DEFAULT_RULES = Path(__file__).with_name("assessment_rules.toml")
RULES_VARIABLE = "MINQING_ASSESSMENT_RULES"

Subject = Literal["department", "official"]
SUBJECTS: tuple[Subject, ...] = ("department", "official")
Per = Literal["case", "each"]


@dataclass(frozen=True)
class Return:
    """One return (退单) of a case: the department that sent its work order back."""

    department_code: str | None
    department_name: str | None = None

    @property
    def by(self) -> str | None:
        """The department in words: its name when known, else its code."""
        return self.department_name or self.department_code


@dataclass(frozen=True)
class Case:
    """What the assessment reads of one case: its row in the read model, as plain data.

    `returned_by` holds every return of the case, lead or co-handling order alike, in the order
    they happened. A department is assessed on a view of the case (`views`) whose returns are its
    own; `held` is False in the view of a department that returned the case but does not hold it.
    """

    tracking_no: str
    department_code: str | None = None
    department_name: str | None = None
    first_contact_id: str | None = None
    first_contact_name: str | None = None
    submitted_at: datetime | None = None
    dispatched_at: datetime | None = None
    deadline: date | None = None
    resolved_at: datetime | None = None
    resolved_on_time: bool | None = None
    rating: str | None = None
    satisfied: bool | None = None
    rated_at: datetime | None = None
    returned_by: tuple[Return, ...] = ()
    rehandles: int = 0
    revisits: int = 0
    revisited_at: datetime | None = None
    held: bool = True

    @property
    def returns(self) -> int:
        """The returns of the case, as far as the view it is (`views`) is charged with them."""
        return len(self.returned_by)


Details = dict[str, str | int | None]


@dataclass(frozen=True)
class Fact:
    """What a case did that a rule looked at, in words and as values."""

    en: str
    zh: str
    details: Details = field(default_factory=dict)


@dataclass(frozen=True)
class Population:
    """The cases a rule looks at: those whose `moment` falls in the period."""

    moment: str
    en: str
    zh: str
    needs_deadline: bool = False

    def holds(self, case: Case, period: Period) -> bool:
        moment: datetime | None = getattr(case, self.moment)
        if moment is None or not period.start <= moment < period.end:
            return False
        return case.deadline is not None or not self.needs_deadline


POPULATIONS: dict[str, Population] = {
    "submitted": Population("submitted_at", "submitted in the period", "期内受理"),
    "dispatched": Population("dispatched_at", "first dispatched in the period", "期内首次派单"),
    "resolved": Population("resolved_at", "first resolved in the period", "期内首次办结"),
    "resolved-with-deadline": Population(
        "resolved_at",
        "first resolved in the period with a deadline",
        "期内首次办结且有办理期限",
        needs_deadline=True,
    ),
    "rated": Population("rated_at", "rated in the period", "期内评价"),
}


def _day(moment: datetime | date | None) -> str:
    if moment is None:
        return "-"
    return (local_date(moment) if isinstance(moment, datetime) else moment).isoformat()


def working_days_between(first: date, last: date) -> int:
    """Working days after `first` up to and including `last`; 0 when `last` is not later."""
    return sum(is_working_day(first + timedelta(days=n)) for n in range(1, (last - first).days + 1))


def _resolution(case: Case) -> Fact:
    resolved, deadline = _day(case.resolved_at), _day(case.deadline)
    details: Details = {"resolved_on": resolved, "deadline": deadline}
    if case.resolved_at is None or case.deadline is None or case.resolved_on_time:
        return Fact(
            f"resolved on {resolved}, deadline {deadline}",
            f"{resolved} 办结，办理期限 {deadline}",
            details,
        )
    day = local_date(case.resolved_at)
    late, working = (day - case.deadline).days, working_days_between(case.deadline, day)
    return Fact(
        f"resolved on {resolved}, {late} days ({working} working days) after its deadline "
        f"{deadline}",
        f"{resolved} 办结，超过办理期限 {deadline} 共 {late} 天（{working} 个工作日）",
        {**details, "days_late": late, "working_days_late": working},
    )


_RATINGS_ZH = {"satisfied": "满意", "basically-satisfied": "基本满意", "dissatisfied": "不满意"}


def _rating(case: Case) -> Fact:
    rated, rating = _day(case.rated_at), case.rating or "-"
    return Fact(
        f"rated {rating} on {rated}",
        f"{rated} 评价：{_RATINGS_ZH.get(rating, rating)}",
        {"rating": case.rating, "rated_on": rated},
    )


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


_UNKNOWN_DEPARTMENT = ("an unknown department", "未知部门")


def _listed(names: Sequence[str]) -> str:
    """Names as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _returns(case: Case) -> Fact:
    count = case.returns
    if not count:
        return Fact("not returned", "未退单", {"returns": 0, "returned_by": None})
    # Each department once, in the order it first returned the case.
    by = list(dict.fromkeys(r.by for r in case.returned_by))
    en = [_UNKNOWN_DEPARTMENT[0] if b is None else b for b in by]
    zh = [_UNKNOWN_DEPARTMENT[1] if b is None else b for b in by]
    codes = list(dict.fromkeys(r.department_code or "-" for r in case.returned_by))
    return Fact(
        f"returned {_times(count)} by {_listed(en)}",
        f"被 {'、'.join(zh)} 退单 {count} 次",
        {"returns": count, "returned_by": ", ".join(codes)},
    )


def _rehandles(case: Case) -> Fact:
    return Fact(
        f"re-handled {_times(case.rehandles)}",
        f"重办 {case.rehandles} 次",
        {"rehandles": case.rehandles},
    )


def _revisits(case: Case) -> Fact:
    details: Details = {"revisits": case.revisits, "first_revisited_on": None}
    if not case.revisits:
        return Fact("not revisited", "未回访", details)
    first = _day(case.revisited_at)
    return Fact(
        f"revisited {_times(case.revisits)}, first on {first}",
        f"回访 {case.revisits} 次，首次 {first}",
        {**details, "first_revisited_on": first},
    )


@dataclass(frozen=True)
class Condition:
    """What earns a rule's points: how many times a case meets it, and the fact to show."""

    times: Callable[[Case], int]
    fact: Callable[[Case], Fact]
    en: str
    zh: str
    # Met more than once by one case: a rule may count each time (`per = "each"`).
    countable: bool = False
    # The populations over which it means something; None: any.
    populations: frozenset[str] | None = None
    # An act of the department that did it, not of the one holding the case: it also looks at
    # the cases a department did it to without holding them (their `held` is False).
    by_the_actor: bool = False


_WITH_DEADLINE = frozenset({"resolved-with-deadline"})
_RATED = frozenset({"rated"})

CONDITIONS: dict[str, Condition] = {
    "on-time": Condition(
        lambda c: int(c.resolved_on_time is True),
        _resolution,
        "resolved on or before the deadline",
        "在办理期限内办结",
        populations=_WITH_DEADLINE,
    ),
    "late": Condition(
        lambda c: int(c.resolved_on_time is False),
        _resolution,
        "resolved after the deadline",
        "超过办理期限办结",
        populations=_WITH_DEADLINE,
    ),
    "satisfied": Condition(
        lambda c: int(c.satisfied is True),
        _rating,
        "rated satisfied or basically satisfied",
        "评价为满意或基本满意",
        populations=_RATED,
    ),
    "dissatisfied": Condition(
        lambda c: int(c.satisfied is False),
        _rating,
        "rated dissatisfied",
        "评价为不满意",
        populations=_RATED,
    ),
    "returned": Condition(
        lambda c: c.returns,
        _returns,
        "returned (退单)",
        "被退单",
        countable=True,
        by_the_actor=True,
    ),
    "rehandled": Condition(
        lambda c: c.rehandles, _rehandles, "re-handled (重办)", "重办", countable=True
    ),
    "revisited": Condition(
        lambda c: c.revisits, _revisits, "revisited (回访)", "已回访", countable=True
    ),
    "not-revisited": Condition(lambda c: int(not c.revisits), _revisits, "not revisited", "未回访"),
}


@dataclass(frozen=True)
class Rule:
    """One line of the assessment: which cases, what earns points, and how many."""

    id: str
    name: str
    name_en: str
    cases: str
    when: str
    points: float | None = None
    weight: float | None = None
    per: Per = "case"
    cap: float | None = None
    applies_to: tuple[Subject, ...] = SUBJECTS

    @property
    def population(self) -> Population:
        return POPULATIONS[self.cases]

    @property
    def condition(self) -> Condition:
        return CONDITIONS[self.when]

    def looks_at(self, case: Case, period: Period) -> bool:
        """Whether the case is among the rule's in the period, for whoever it is assessed on."""
        if not (case.held or self.condition.by_the_actor):
            return False
        return self.population.holds(case, period)

    def definition(self) -> Fact:
        """The rule in words, as the API and the README give it."""
        of = self.population
        met = self.condition
        if self.weight is not None:
            return Fact(
                f"{_number(self.weight)} × the share of the cases {of.en} that were {met.en}",
                f"{_number(self.weight)} × {of.zh}的诉求中{met.zh}的比例",
            )
        per_en, per_zh = ("each time", "每次") if self.per == "each" else ("per case", "每件")
        cap_en = cap_zh = ""
        if self.cap is not None:
            taken = self.points is not None and self.points < 0
            cap_en = f", {'taking' if taken else 'giving'} at most {_number(self.cap)} in all"
            cap_zh = f"，合计{'扣分' if taken else ''}不超过 {_number(self.cap)} 分"
        return Fact(
            f"{_signed(self.points)} points {per_en} for the cases {of.en} that were "
            f"{met.en}{cap_en}",
            f"{of.zh}的诉求中{met.zh}的，{per_zh} {_signed(self.points)} 分{cap_zh}",
        )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+g}"


class RulesError(ValueError):
    """The assessment rules file is malformed: the message names the rule and the field."""


_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_FIELDS = frozenset(
    {"id", "name", "name_en", "cases", "when", "points", "weight", "per", "cap", "applies_to"}
)
NAME_MAX = 40


def parse_rules(text: str, source: str = "assessment rules") -> tuple[Rule, ...]:
    """The rules a TOML text gives, each checked; RulesError names the first rule at fault."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"rule"})
    if unknown:
        raise RulesError(f"{source}: unknown section {unknown[0]!r}; rules go in [[rule]] tables")
    tables = raw.get("rule")
    if not isinstance(tables, list) or not tables:
        raise RulesError(f"{source}: no rules; write each one as a [[rule]] table")
    rules: list[Rule] = []
    for number, table in enumerate(tables, start=1):
        rule = _rule(table, source, number)
        if any(r.id == rule.id for r in rules):
            raise RulesError(f'{source}: rule "{rule.id}": id: appears twice')
        rules.append(rule)
    return tuple(rules)


Refuse = Callable[[str, str], RulesError]


def _rule(table: Any, source: str, number: int) -> Rule:
    if not isinstance(table, dict):
        raise RulesError(f"{source}: rule {number}: write it as a [[rule]] table")
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RulesError(
            f"{source}: rule {number}: id: required, lower-case letters, digits and hyphens"
        )

    def refuse(name: str, problem: str) -> RulesError:
        return RulesError(f'{source}: rule "{rule_id}": {name}: {problem}')

    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise refuse(unknown[0], f"unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    for name in ("name", "name_en"):
        value = table.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > NAME_MAX:
            raise refuse(name, f"required, 1 to {NAME_MAX} characters")
    cases, when = table.get("cases"), table.get("when")
    if cases not in POPULATIONS:
        raise refuse("cases", f"{cases!r} is not one of {', '.join(POPULATIONS)}")
    if when not in CONDITIONS:
        raise refuse("when", f"{when!r} is not one of {', '.join(CONDITIONS)}")
    condition = CONDITIONS[when]
    if condition.populations is not None and cases not in condition.populations:
        raise refuse("when", f"{when!r} needs cases = {' or '.join(sorted(condition.populations))}")
    points, weight, per, cap = _scoring(table, condition, refuse)
    return Rule(
        id=rule_id,
        name=table["name"].strip(),
        name_en=table["name_en"].strip(),
        cases=cases,
        when=when,
        points=points,
        weight=weight,
        per=per,
        cap=cap,
        applies_to=_applies_to(table, refuse),
    )


def _scoring(
    table: Mapping[str, Any], condition: Condition, refuse: Refuse
) -> tuple[float | None, float | None, Per, float | None]:
    """Points per case or the weight of a rate, and how they are counted and capped."""
    points = _optional_number(table, "points", refuse)
    weight = _optional_number(table, "weight", refuse)
    if (points is None) == (weight is None):
        raise refuse("points", "give either points (per case) or weight (of a rate), not both")
    if points == 0:
        raise refuse("points", "must not be 0")
    if weight is not None and weight <= 0:
        raise refuse("weight", "must be more than 0")
    per = table.get("per", "case")
    if per not in ("case", "each"):
        raise refuse("per", f"{per!r} is not case or each")
    if per == "each" and (weight is not None or not condition.countable):
        raise refuse("per", "each needs points and a condition met more than once")
    cap = _optional_number(table, "cap", refuse)
    if cap is not None and (weight is not None or cap <= 0):
        raise refuse("cap", "needs points, and must be more than 0")
    return points, weight, per, cap


def _applies_to(table: Mapping[str, Any], refuse: Refuse) -> tuple[Subject, ...]:
    subjects = table.get("applies_to", list(SUBJECTS))
    if (
        not isinstance(subjects, list)
        or not subjects
        or not set(subjects) <= set(SUBJECTS)
        or len(set(subjects)) != len(subjects)
    ):
        raise refuse("applies_to", "a list of department and/or official")
    return tuple(s for s in SUBJECTS if s in subjects)


def _optional_number(table: Mapping[str, Any], name: str, refuse: Refuse) -> float | None:
    value = table.get(name)
    if value is None:
        return None
    # TOML's booleans are not numbers to a reader, whatever Python thinks of them.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise refuse(name, f"must be a number, not {value!r}")
    return float(value)


def load_rules(path: Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"assessment rules {path}: cannot read: {exc.strerror}") from exc
    return parse_rules(text, f"assessment rules {path.name}")


def rules_path(environ: Mapping[str, str] | None = None) -> Path:
    """The rules file in force: `MINQING_ASSESSMENT_RULES`, or the one shipped with reporting."""
    configured = (os.environ if environ is None else environ).get(RULES_VARIABLE, "").strip()
    return Path(configured) if configured else DEFAULT_RULES


@functools.lru_cache(maxsize=4)
def _loaded(path: Path) -> tuple[Rule, ...]:
    return load_rules(path)


def configured_rules(environ: Mapping[str, str] | None = None) -> tuple[Rule, ...]:
    """The rules in force, read once per process: a changed file takes effect on restart."""
    return _loaded(rules_path(environ))


@dataclass(frozen=True)
class Earned:
    """One case's part in a rule's points."""

    tracking_no: str
    times: int
    points: float
    fact: Fact


@dataclass(frozen=True)
class RuleScore:
    """A rule's points for one department or official, and every case behind them.

    A points rule lists the cases that earned points; a rate rule lists every case it looked
    at, so its share can be counted again by hand.
    """

    rule: Rule
    points: float
    # Before the cap; equal to `points` when the cap was not reached.
    uncapped: float
    looked_at: int
    met: int
    rate: float | None
    cases: tuple[Earned, ...]

    @property
    def capped(self) -> bool:
        return self.points != self.uncapped


def score_rule(rule: Rule, cases: Iterable[Case], period: Period) -> RuleScore:
    """A rule's points over one subject's cases in the period."""
    looked_at = sorted((c for c in cases if rule.looks_at(c, period)), key=lambda c: c.tracking_no)
    times = [(c, rule.condition.times(c)) for c in looked_at]
    met = sum(1 for _, n in times if n > 0)
    if rule.weight is not None:
        share = met / len(looked_at) if looked_at else None
        # Each case meeting the condition carries its part of the rate, so the parts add up.
        part = rule.weight / len(looked_at) if looked_at else 0.0
        shares = tuple(
            Earned(c.tracking_no, min(n, 1), part if n > 0 else 0.0, rule.condition.fact(c))
            for c, n in times
        )
        points = 0.0 if share is None else rule.weight * share
        return RuleScore(rule, points, points, len(looked_at), met, share, shares)
    assert rule.points is not None
    counted = [(c, n if rule.per == "each" else 1) for c, n in times if n > 0]
    earned = tuple(
        Earned(c.tracking_no, n, rule.points * n, rule.condition.fact(c)) for c, n in counted
    )
    uncapped = sum(e.points for e in earned)
    points = uncapped if rule.cap is None else max(-rule.cap, min(rule.cap, uncapped))
    return RuleScore(rule, points, uncapped, len(looked_at), met, None, earned)


@dataclass(frozen=True)
class Score:
    """One department's or official's assessment: every rule that applies to them."""

    subject: Subject
    key: str
    name: str
    rules: tuple[RuleScore, ...]

    @property
    def total(self) -> float:
        return sum(r.points for r in self.rules)


def subject_of(case: Case, subject: Subject) -> tuple[str, str] | None:
    """Whom a view of a case (`views`) counts for, key and name: its department or the official
    who took the case."""
    if subject == "department":
        if case.department_code is None:
            return None
        return case.department_code, case.department_name or case.department_code
    if case.first_contact_id is None:
        return None
    return case.first_contact_id, case.first_contact_name or case.first_contact_id


# What rules' populations read of a case: all a returning department's view needs to be placed
# in the period, whichever population the rules file gives the rule on returns.
_PLACING = tuple(sorted({p.moment for p in POPULATIONS.values()} | {"deadline"}))


def _returns_by(case: Case, code: str) -> tuple[Return, ...]:
    return tuple(r for r in case.returned_by if r.department_code == code)


def _returned_only(case: Case, code: str) -> Case:
    """The case as seen by a department that returned it without holding it: its returns and
    when the case happened, not how it was resolved, rated or revisited (the holder's doing)."""
    own = _returns_by(case, code)
    return Case(
        case.tracking_no,
        department_code=code,
        department_name=next((r.department_name for r in own if r.department_name), None),
        returned_by=own,
        held=False,
        **{moment: getattr(case, moment) for moment in _PLACING},
    )


def views(case: Case, subject: Subject) -> Iterator[Case]:
    """The case as each department or official it counts for is assessed on it.

    An official is charged with every return of the case they took. The department holding the
    case is assessed on all of it but charged only with its own returns; each department that
    returned it without holding it, on its returns alone: 退单 is the returning department's act,
    not the next one's.
    """
    if subject == "official":
        if case.first_contact_id is not None:
            yield case
        return
    holder = case.department_code
    if holder is not None:
        yield replace(case, returned_by=_returns_by(case, holder))
    # A return with no department recorded counts against no department.
    for code in dict.fromkeys(r.department_code for r in case.returned_by):
        if code is not None and code != holder:
            yield _returned_only(case, code)


def in_period(rules: Sequence[Rule], case: Case, period: Period) -> bool:
    """Whether any rule looks at the case in the period."""
    return any(r.looks_at(case, period) for r in rules)


def score(
    subject: Subject, key: str, rules: Sequence[Rule], cases: Iterable[Case], period: Period
) -> Score | None:
    """`key`'s assessment over its cases among `cases`; None if no rule looks at any of them."""
    own = [
        view
        for case in cases
        for view in views(case, subject)
        if (who := subject_of(view, subject)) is not None and who[0] == key
    ]
    return _score(subject, key, rules, own, period)


def _score(
    subject: Subject, key: str, rules: Sequence[Rule], own: Sequence[Case], period: Period
) -> Score | None:
    applying = [r for r in rules if subject in r.applies_to]
    if not any(in_period(applying, c, period) for c in own):
        return None
    # A name can change (a department renamed): the latest case's is the one shown, though a
    # case that does not know it (one returned, by a department holding none) gives way.
    latest = max(
        own,
        key=lambda c: (
            _named(c, subject),
            c.submitted_at is not None,
            c.submitted_at,
            c.tracking_no,
        ),
    )
    name = (subject_of(latest, subject) or (key, key))[1]
    return Score(subject, key, name, tuple(score_rule(r, own, period) for r in applying))


def _named(case: Case, subject: Subject) -> bool:
    named = case.department_name if subject == "department" else case.first_contact_name
    return named is not None


POINTS_DECIMALS = 2


def shown(points: float) -> float:
    """Points as the API gives them; ranks follow these, so equal-looking totals tie."""
    return round(points, POINTS_DECIMALS)


@dataclass(frozen=True)
class Ranked:
    rank: int
    score: Score


def assess(
    subject: Subject, rules: Sequence[Rule], cases: Iterable[Case], period: Period
) -> list[Ranked]:
    """Every department or official with a case in the period, best total first; equal totals
    share a rank and the next rank skips (1, 2, 2, 4)."""
    by_key: dict[str, list[Case]] = {}
    for case in cases:
        for view in views(case, subject):
            who = subject_of(view, subject)
            if who is not None:
                by_key.setdefault(who[0], []).append(view)
    scores = [
        found
        for key, own in by_key.items()
        if (found := _score(subject, key, rules, own, period)) is not None
    ]
    scores.sort(key=lambda s: (-shown(s.total), s.key))
    ranked: list[Ranked] = []
    for position, s in enumerate(scores, start=1):
        tied = ranked and shown(ranked[-1].score.total) == shown(s.total)
        ranked.append(Ranked(ranked[-1].rank if tied else position, s))
    return ranked
