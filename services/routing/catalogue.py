"""The dispatch catalogue: read from its data file once, then kept and edited in routing's tables.

Every edit is audited (who, when, before, after) in the same transaction as the edit, and a
rule's edit or retirement adds a version rather than rewriting the one in force.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.kernel.auth import Staff
from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    DEPARTMENT_NAME_EN_MAX,
    DEPARTMENT_NAME_EN_PATTERN,
    DEPARTMENT_NAME_MAX,
    LIAISON_CONTACTS,
    CatalogueContactsPublished,
    CatalogueDepartment,
    CataloguePublished,
    DepartmentContacts,
    LiaisonContact,
)
from services.kernel.language import InvalidValue
from services.kernel.sealing import sealer_for
from services.routing.dispatch import (
    DEPARTMENT_KINDS,
    TERRITORY_LEVELS,
    DispatchRule,
    Rules,
    Territory,
    effective_rules,
    push_down_refusal,
)
from services.routing.models import (
    CatalogueChange,
    Department,
    DispatchRuleVersion,
    DispatchTerm,
    LiaisonOfficer,
    MajorKeyword,
)
from services.routing.models import Territory as TerritoryRow
from services.routing.scope import SCOPE_LEVELS

DEFAULT_CATALOGUE = Path(__file__).with_name("data") / "catalogue.toml"
Entity = Literal["department", "territory", "rule", "major-keywords", "catalogue"]


@dataclass(frozen=True)
class Liaison:
    name: str
    phone: str


@dataclass(frozen=True)
class DepartmentEntry:
    code: str
    name: str
    name_en: str
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    kind: str = "functional"
    territory: str | None = None
    liaisons: tuple[Liaison, ...] = ()


@dataclass(frozen=True)
class CatalogueFile:
    departments: tuple[DepartmentEntry, ...]
    territories: tuple[Territory, ...]
    rules: tuple[DispatchRule, ...]
    major_keywords: tuple[str, ...]


class CatalogueError(ValueError):
    """The catalogue file is malformed."""


class CatalogueRefusal(Exception):
    """An edit the catalogue refuses: which field, why, and the HTTP status that says so."""

    def __init__(self, field: str, reason: InvalidValue, status: int = 422) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


def _department(raw: dict[str, Any]) -> DepartmentEntry:
    return DepartmentEntry(
        code=raw["code"],
        name=raw["name"],
        name_en=raw.get("name_en", raw["name"]),
        categories=tuple(raw.get("categories", ())),
        keywords=tuple(raw.get("keywords", ())),
        kind=raw.get("kind", "functional"),
        territory=raw.get("territory"),
        liaisons=tuple(Liaison(x["name"], x["phone"]) for x in raw.get("liaisons", ())),
    )


def _rule(raw: dict[str, Any]) -> DispatchRule:
    return DispatchRule(
        key=raw["key"],
        version=1,
        lead=raw["lead"],
        co=tuple(raw.get("co", ())),
        kind=raw.get("kind"),
        category=raw.get("category"),
        territory=raw.get("territory"),
        scope_level=raw.get("scope"),
        keywords=tuple(raw.get("keywords", ())),
        major=bool(raw.get("major", False)),
        effective_from=date.fromisoformat(raw.get("effective_from", "2000-01-01")),
        effective_to=date.fromisoformat(raw["effective_to"]) if "effective_to" in raw else None,
    )


def parse_catalogue_file(text: str) -> CatalogueFile:
    try:
        raw = tomllib.loads(text)
        for field in ("categories", "keywords"):
            if any(not isinstance(d.get(field, []), list) for d in raw["departments"]):
                raise TypeError(f"a department's {field} is not a list")
        catalogue = CatalogueFile(
            departments=tuple(_department(d) for d in raw["departments"]),
            territories=tuple(
                Territory(t["code"], t["name"], t["level"], t.get("parent"))
                for t in raw.get("territories", ())
            ),
            rules=tuple(_rule(r) for r in raw.get("rules", ())),
            major_keywords=tuple(raw.get("major", {}).get("keywords", ())),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CatalogueError(f"dispatch catalogue: {exc}") from exc
    codes = [e.code for e in catalogue.departments]
    if len(codes) != len(set(codes)):
        raise CatalogueError("dispatch catalogue: a department code appears twice")
    problems = _file_problems(catalogue)
    if problems:
        raise CatalogueError("dispatch catalogue: " + "; ".join(problems))
    return catalogue


def _file_problems(catalogue: CatalogueFile) -> list[str]:
    departments = {d.code for d in catalogue.departments}
    seen: set[str] = set()
    problems = []
    for t in catalogue.territories:
        if t.level not in TERRITORY_LEVELS or (t.parent is not None and t.parent not in seen):
            problems.append(f"territory {t.code}: bad level or parent not listed before it")
        seen.add(t.code)
    for d in catalogue.departments:
        if (
            len(d.name) > DEPARTMENT_NAME_MAX
            or len(d.name_en) > DEPARTMENT_NAME_EN_MAX
            # A department without an English name goes by its Chinese one.
            or (d.name_en != d.name and not re.match(DEPARTMENT_NAME_EN_PATTERN, d.name_en))
        ):
            problems.append(f"department {d.code}: a name an SMS notice cannot carry in one part")
        if d.kind not in DEPARTMENT_KINDS or (d.territory is not None and d.territory not in seen):
            problems.append(f"department {d.code}: bad kind or unknown territory")
    for r in catalogue.rules:
        if not {r.lead, *r.co} <= departments or (r.territory and r.territory not in seen):
            problems.append(f"rule {r.key}: unknown department or territory")
    return problems


def parse_catalogue(text: str) -> list[DepartmentEntry]:
    return list(parse_catalogue_file(text).departments)


def load_catalogue_file(path: Path = DEFAULT_CATALOGUE) -> CatalogueFile:
    return parse_catalogue_file(path.read_text(encoding="utf-8"))


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> list[DepartmentEntry]:
    return list(load_catalogue_file(path).departments)


def sync_catalogue(session: Session, entries: list[DepartmentEntry]) -> None:
    """Make the departments match `entries`: departments upserted, their terms replaced."""
    existing = {d.code: d for d in session.scalars(select(Department))}
    for entry in entries:
        department = existing.get(entry.code) or Department(code=entry.code)
        department.name = entry.name
        department.name_en = entry.name_en
        department.kind = entry.kind
        department.active = True
        session.add(department)
    for code, department in existing.items():
        if code not in {e.code for e in entries}:
            department.active = False
    session.execute(delete(DispatchTerm))
    session.add_all(
        DispatchTerm(department_code=e.code, term_type=term_type, term=term)
        for e in entries
        for term_type, terms in (("category", e.categories), ("keyword", e.keywords))
        for term in terms
    )


SYSTEM = Staff(staff_id="system", name="catalogue.toml", roles=frozenset())


def never_loaded(session: Session) -> bool:
    loads = select(func.count()).where(CatalogueChange.action == "load")
    return not session.scalar(loads)


def install_catalogue(session: Session, catalogue: CatalogueFile) -> None:
    """Load the file into empty tables (routing's first start), recording that it did."""
    known = {t.code for t in session.scalars(select(TerritoryRow))}
    for t in catalogue.territories:
        if t.code not in known:
            session.add(TerritoryRow(code=t.code, name=t.name, level=t.level, parent_code=t.parent))
            session.flush()
    sync_catalogue(session, list(catalogue.departments))
    session.flush()
    for entry in catalogue.departments:
        department = session.get_one(Department, entry.code)
        department.territory_code = entry.territory
        _replace_liaisons(session, entry.code, entry.liaisons)
    now = utcnow()
    existing = set(session.scalars(select(DispatchRuleVersion.rule_key)))
    for rule in catalogue.rules:
        if rule.key not in existing:
            session.add(_rule_row(rule, now, SYSTEM))
    session.execute(delete(MajorKeyword))
    session.add_all(MajorKeyword(term=word) for word in dict.fromkeys(catalogue.major_keywords))
    counts = {
        "departments": len(catalogue.departments),
        "territories": len(catalogue.territories),
        "rules": len(catalogue.rules),
    }
    _audit(session, SYSTEM, "catalogue", "file", "load", None, counts)


def _replace_liaisons(session: Session, code: str, liaisons: tuple[Liaison, ...]) -> None:
    session.execute(delete(LiaisonOfficer).where(LiaisonOfficer.department_code == code))
    session.add_all(
        LiaisonOfficer(department_code=code, name=x.name, phone=x.phone) for x in liaisons
    )


def _audit(
    session: Session,
    actor: Staff,
    entity: Entity,
    key: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        CatalogueChange(
            at=utcnow(),
            actor_id=actor.staff_id,
            actor_name=actor.name,
            entity=entity,
            entity_key=key,
            action=action,
            before=before,
            after=after,
        )
    )


# Reading


def read_rules(session: Session) -> Rules:
    """Everything dispatching needs, read in one go (cached by the caller)."""
    by_category: dict[str, str] = {}
    keywords: dict[str, list[str]] = defaultdict(list)
    active = select(Department.code).where(Department.active.is_(True))
    for term in session.scalars(
        select(DispatchTerm)
        .where(DispatchTerm.department_code.in_(active))
        .order_by(DispatchTerm.id)
    ):
        if term.term_type == "category":
            by_category[term.term] = term.department_code
        else:
            keywords[term.department_code].append(term.term)
    territories = {
        row.code: Territory(row.code, row.name, row.level, row.parent_code)  # type: ignore[arg-type]
        for row in session.scalars(select(TerritoryRow).where(TerritoryRow.active.is_(True)))
    }
    departments = list(session.scalars(select(Department).where(Department.active.is_(True))))
    return Rules(
        by_category,
        {code: tuple(words) for code, words in keywords.items()},
        rules=tuple(
            as_rule(row) for row in session.scalars(select(DispatchRuleVersion).order_by("id"))
        ),
        territories=territories,
        department_kinds={d.code: d.kind for d in departments},
        territorial={
            d.territory_code: d.code
            for d in departments
            if d.territory_code is not None and d.kind != "functional"
        },
        major_keywords=tuple(session.scalars(select(MajorKeyword.term).order_by("term"))),
    )


def as_rule(row: DispatchRuleVersion) -> DispatchRule:
    return DispatchRule(
        key=row.rule_key,
        version=row.version,
        lead=row.lead_department,
        co=tuple(row.co_departments),
        kind=row.kind,
        category=row.category,
        territory=row.territory_code,
        scope_level=row.scope_level,  # type: ignore[arg-type]
        keywords=tuple(row.keywords),
        major=row.major,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        retired=row.retired,
    )


def published_catalogue(session: Session) -> CataloguePublished:
    """The event that tells intake (and anyone else) what citizens may choose from."""
    categories: dict[str, list[str]] = defaultdict(list)
    for term in session.scalars(
        select(DispatchTerm).where(DispatchTerm.term_type == "category").order_by(DispatchTerm.id)
    ):
        categories[term.department_code].append(term.term)
    active = session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code)
    ).all()
    # In the catalogue's own order (its categories' as they were entered), which is the order
    # citizens see them in; departments without categories last.
    first_seen = {code: n for n, code in enumerate(categories)}
    departments = sorted(active, key=lambda d: (first_seen.get(d.code, len(first_seen)), d.code))
    return CataloguePublished(
        departments=tuple(
            CatalogueDepartment(
                code=d.code, name=d.name, name_en=d.name_en, categories=tuple(categories[d.code])
            )
            for d in departments
        )
    )


def published_contacts(session: Session, secret_key: str) -> CatalogueContactsPublished:
    """The event that tells notify every department's names and whom to text about its work."""
    liaisons: dict[str, list[LiaisonContact]] = defaultdict(list)
    for row in session.scalars(select(LiaisonOfficer).order_by(LiaisonOfficer.id)):
        liaisons[row.department_code].append(LiaisonContact(name=row.name, phone=row.phone))
    sealer = sealer_for(secret_key, LIAISON_CONTACTS)
    active = session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code)
    )
    return CatalogueContactsPublished(
        departments=tuple(
            DepartmentContacts(
                code=d.code,
                name=d.name,
                name_en=d.name_en,
                sealed_liaisons=sealer.seal(
                    "[" + ",".join(x.model_dump_json() for x in liaisons[d.code]) + "]"
                ),
            )
            for d in active
        )
    )


def department_entry(session: Session, department: Department) -> DepartmentEntry:
    terms: dict[str, list[str]] = defaultdict(list)
    for term in session.scalars(
        select(DispatchTerm)
        .where(DispatchTerm.department_code == department.code)
        .order_by(DispatchTerm.id)
    ):
        terms[term.term_type].append(term.term)
    liaisons = session.scalars(
        select(LiaisonOfficer)
        .where(LiaisonOfficer.department_code == department.code)
        .order_by(LiaisonOfficer.id)
    )
    return DepartmentEntry(
        code=department.code,
        name=department.name,
        name_en=department.name_en,
        categories=tuple(terms["category"]),
        keywords=tuple(terms["keyword"]),
        kind=department.kind,
        territory=department.territory_code,
        liaisons=tuple(Liaison(x.name, x.phone) for x in liaisons),
    )


def _snapshot(value: Any) -> dict[str, Any]:
    """A dataclass as JSON-ready values, for the audit."""
    return {
        k: (v.isoformat() if isinstance(v, date | datetime) else v)
        for k, v in asdict(value).items()
    }


# Editing: every function checks everything first, so a refusal writes nothing.


def _refuse(field: str, en: str, zh: str, status: int = 422) -> CatalogueRefusal:
    return CatalogueRefusal(field, InvalidValue(en, zh), status)


def _check_department(session: Session, entry: DepartmentEntry) -> None:
    if entry.territory is not None and session.get(TerritoryRow, entry.territory) is None:
        raise _refuse("territory", "no such territory", "没有这个辖区")
    if entry.kind != "functional" and entry.territory is None:
        raise _refuse("territory", "a local government names its territory", "基层单位须指明辖区")
    owners = dict(
        session.execute(
            select(DispatchTerm.term, DispatchTerm.department_code)
            .join(Department)
            .where(DispatchTerm.term_type == "category", Department.active.is_(True))
            .where(DispatchTerm.department_code != entry.code)
        )
        .tuples()
        .all()
    )
    for n, category in enumerate(entry.categories):
        if category in owners:
            raise _refuse(
                f"categories.{n}",
                f"category already belongs to {owners[category]}",
                f"该类别已属于 {owners[category]}",
            )


def create_department(session: Session, actor: Staff, entry: DepartmentEntry) -> None:
    if session.get(Department, entry.code) is not None:
        raise _refuse("code", "a department has this code", "已有该代码的部门", 409)
    _check_department(session, entry)
    session.add(
        Department(code=entry.code, name=entry.name, name_en=entry.name_en, kind=entry.kind)
    )
    session.flush()
    _write_department(session, entry)
    _audit(session, actor, "department", entry.code, "create", None, _snapshot(entry))


def update_department(session: Session, actor: Staff, entry: DepartmentEntry) -> None:
    department = _active_department(session, entry.code)
    _check_department(session, entry)
    before = _snapshot(department_entry(session, department))
    _write_department(session, entry)
    _audit(session, actor, "department", entry.code, "update", before, _snapshot(entry))


def retire_department(session: Session, actor: Staff, code: str) -> None:
    department = _active_department(session, code)
    today = utcnow().date()
    using = [rule.key for rule in _rules_in_use(session, today) if code in (rule.lead, *rule.co)]
    if using:
        raise _refuse(
            "code",
            f"rules in force name it: {', '.join(using)}",
            f"仍有生效的规则使用该部门：{'、'.join(using)}",
            409,
        )
    before = _snapshot(department_entry(session, department))
    department.active = False
    _audit(session, actor, "department", code, "retire", before, None)


def _active_department(session: Session, code: str) -> Department:
    department = session.get(Department, code)
    if department is None or not department.active:
        raise _refuse("code", "no such department", "没有这个部门", 404)
    return department


def _write_department(session: Session, entry: DepartmentEntry) -> None:
    department = session.get_one(Department, entry.code)
    department.name = entry.name
    department.name_en = entry.name_en
    department.kind = entry.kind
    department.territory_code = entry.territory
    session.execute(delete(DispatchTerm).where(DispatchTerm.department_code == entry.code))
    session.add_all(
        DispatchTerm(department_code=entry.code, term_type=term_type, term=term)
        for term_type, terms in (("category", entry.categories), ("keyword", entry.keywords))
        for term in terms
    )
    _replace_liaisons(session, entry.code, entry.liaisons)


def _check_territory(session: Session, territory: Territory) -> None:
    depth = TERRITORY_LEVELS.index(territory.level)
    if territory.parent is None:
        if depth > 0:
            raise _refuse("parent", "a village or group lies in a parent", "村或村民小组须有上级")
        return
    parent = session.get(TerritoryRow, territory.parent)
    if parent is None or not parent.active:
        raise _refuse("parent", "no such territory", "没有这个辖区")
    if depth == 0 or parent.level != TERRITORY_LEVELS[depth - 1]:
        raise _refuse(
            "parent",
            "a village lies in a township, a villager group in a village",
            "村隶属于乡镇，村民小组隶属于村",
        )


def create_territory(session: Session, actor: Staff, territory: Territory) -> None:
    if session.get(TerritoryRow, territory.code) is not None:
        raise _refuse("code", "a territory has this code", "已有该代码的辖区", 409)
    _check_territory(session, territory)
    session.add(
        TerritoryRow(
            code=territory.code,
            name=territory.name,
            level=territory.level,
            parent_code=territory.parent,
            active=True,
        )
    )
    _audit(session, actor, "territory", territory.code, "create", None, _snapshot(territory))


def update_territory(session: Session, actor: Staff, territory: Territory) -> None:
    row = _active_territory(session, territory.code)
    _check_territory(session, territory)
    if territory.parent is not None and territory.code in _ancestors(session, territory.parent):
        raise _refuse("parent", "a territory cannot lie in itself", "辖区不能隶属于自身")
    before = _snapshot(as_territory(row))
    row.name, row.level, row.parent_code = territory.name, territory.level, territory.parent
    _audit(session, actor, "territory", territory.code, "update", before, _snapshot(territory))


def retire_territory(session: Session, actor: Staff, code: str) -> None:
    row = _active_territory(session, code)
    children = session.scalars(
        select(TerritoryRow.code).where(
            TerritoryRow.parent_code == code, TerritoryRow.active.is_(True)
        )
    ).all()
    if children:
        raise _refuse(
            "code",
            f"territories lie in it: {', '.join(children)}",
            f"其下仍有辖区：{'、'.join(children)}",
            409,
        )
    before = _snapshot(as_territory(row))
    row.active = False
    _audit(session, actor, "territory", code, "retire", before, None)


def as_territory(row: TerritoryRow) -> Territory:
    return Territory(row.code, row.name, row.level, row.parent_code)  # type: ignore[arg-type]


def _active_territory(session: Session, code: str) -> TerritoryRow:
    row = session.get(TerritoryRow, code)
    if row is None or not row.active:
        raise _refuse("code", "no such territory", "没有这个辖区", 404)
    return row


def _ancestors(session: Session, code: str | None) -> list[str]:
    chain: list[str] = []
    while code is not None and code not in chain:
        chain.append(code)
        row = session.get(TerritoryRow, code)
        code = row.parent_code if row is not None else None
    return chain


def _rules_in_use(session: Session, day: date) -> list[DispatchRule]:
    """The rule versions in force on `day`, and those that will be from a later day."""
    versions = tuple(map(as_rule, session.scalars(select(DispatchRuleVersion))))
    later = [r for r in versions if not r.retired and r.effective_from > day]
    return effective_rules(versions, day) + later


def _check_rule(session: Session, rule: DispatchRule) -> None:
    if rule.conditions == 0:
        raise _refuse(
            "keywords",
            "a rule names at least one of kind, category, territory, scope_level, keywords",
            "规则须至少指明类型、类别、辖区、范围或关键词之一",
        )
    if rule.effective_to is not None and rule.effective_to < rule.effective_from:
        raise _refuse("effective_to", "ends before it starts", "结束日期早于开始日期")
    if rule.scope_level is not None and rule.scope_level not in SCOPE_LEVELS:
        raise _refuse("scope_level", "no such scope level", "没有这个范围级别")
    departments = {
        d.code for d in session.scalars(select(Department).where(Department.active.is_(True)))
    }
    if rule.lead not in departments:
        raise _refuse("lead_department", "no such department", "没有这个部门")
    for n, code in enumerate(rule.co):
        if code not in departments or code == rule.lead:
            raise _refuse(
                f"co_departments.{n}",
                "no such department, or the lead itself",
                "没有这个部门，或与主办部门相同",
            )
    if rule.territory is not None and session.get(TerritoryRow, rule.territory) is None:
        raise _refuse("territory", "no such territory", "没有这个辖区")
    refusal = push_down_refusal(read_rules(session), rule.category, rule.lead, rule.co)
    if refusal is not None:
        raise CatalogueRefusal("lead_department", refusal)


def _rule_row(rule: DispatchRule, now: datetime, actor: Staff) -> DispatchRuleVersion:
    return DispatchRuleVersion(
        rule_key=rule.key,
        version=rule.version,
        kind=rule.kind,
        category=rule.category,
        territory_code=rule.territory,
        scope_level=rule.scope_level,
        keywords=list(rule.keywords),
        lead_department=rule.lead,
        co_departments=list(rule.co),
        major=rule.major,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        retired=rule.retired,
        created_at=now,
        created_by=actor.name,
    )


def rule_versions(session: Session, key: str) -> list[DispatchRuleVersion]:
    return list(
        session.scalars(
            select(DispatchRuleVersion)
            .where(DispatchRuleVersion.rule_key == key)
            .order_by(DispatchRuleVersion.version)
        )
    )


def create_rule(session: Session, actor: Staff, rule: DispatchRule) -> DispatchRule:
    if rule_versions(session, rule.key):
        raise _refuse("key", "a rule has this key", "已有该代码的规则", 409)
    _check_rule(session, rule)
    rule = replace(rule, version=1, retired=False)
    session.add(_rule_row(rule, utcnow(), actor))
    _audit(session, actor, "rule", rule.key, "create", None, _snapshot(rule))
    return rule


def update_rule(session: Session, actor: Staff, rule: DispatchRule) -> DispatchRule:
    """A new version from `rule.effective_from`; the old one still rules the days before."""
    latest = _latest_rule(session, rule.key)
    _check_rule(session, rule)
    rule = replace(rule, version=latest.version + 1, retired=False)
    session.add(_rule_row(rule, utcnow(), actor))
    _audit(session, actor, "rule", rule.key, "update", _snapshot(latest), _snapshot(rule))
    return rule


def retire_rule(session: Session, actor: Staff, key: str, effective_from: date) -> DispatchRule:
    latest = _latest_rule(session, key)
    retired = replace(
        latest,
        version=latest.version + 1,
        retired=True,
        effective_from=effective_from,
        effective_to=None,
    )
    session.add(_rule_row(retired, utcnow(), actor))
    _audit(session, actor, "rule", key, "retire", _snapshot(latest), _snapshot(retired))
    return retired


def _latest_rule(session: Session, key: str) -> DispatchRule:
    versions = rule_versions(session, key)
    if not versions or versions[-1].retired:
        raise _refuse("key", "no such rule in force", "没有这条规则", 404)
    return as_rule(versions[-1])


def set_major_keywords(session: Session, actor: Staff, words: tuple[str, ...]) -> None:
    before = list(session.scalars(select(MajorKeyword.term).order_by(MajorKeyword.term)))
    session.execute(delete(MajorKeyword))
    session.flush()
    session.add_all(MajorKeyword(term=word) for word in dict.fromkeys(words))
    _audit(
        session,
        actor,
        "major-keywords",
        "all",
        "update",
        {"keywords": before},
        {"keywords": list(dict.fromkeys(words))},
    )


def dispatch_refusal(
    session: Session, category: str | None, lead: str, co: tuple[str, ...] = ()
) -> InvalidValue | None:
    """The guard for a manual dispatch: why `lead` may not take this matter, or None."""
    return push_down_refusal(read_rules(session), category, lead, co)
