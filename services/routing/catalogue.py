"""The dispatch catalogue: read from its data file, kept in routing's tables."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.kernel.events.contracts import CatalogueDepartment, CataloguePublished
from services.routing.models import Department, DispatchTerm

DEFAULT_CATALOGUE = Path(__file__).with_name("data") / "catalogue.toml"


@dataclass(frozen=True)
class DepartmentEntry:
    code: str
    name: str
    name_en: str
    categories: tuple[str, ...]
    keywords: tuple[str, ...]


class CatalogueError(ValueError):
    """The catalogue file is malformed."""


def parse_catalogue(text: str) -> list[DepartmentEntry]:
    try:
        raw = tomllib.loads(text)
        entries = [
            DepartmentEntry(
                code=d["code"],
                name=d["name"],
                name_en=d.get("name_en", d["name"]),
                categories=tuple(d.get("categories", ())),
                keywords=tuple(d.get("keywords", ())),
            )
            for d in raw["departments"]
        ]
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise CatalogueError(f"dispatch catalogue: {exc}") from exc
    codes = [e.code for e in entries]
    if len(codes) != len(set(codes)):
        raise CatalogueError("dispatch catalogue: a department code appears twice")
    return entries


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> list[DepartmentEntry]:
    return parse_catalogue(path.read_text(encoding="utf-8"))


def sync_catalogue(session: Session, entries: list[DepartmentEntry]) -> None:
    """Make the tables match the file: departments upserted, terms replaced."""
    existing = {d.code: d for d in session.scalars(select(Department))}
    for entry in entries:
        department = existing.get(entry.code) or Department(code=entry.code)
        department.name = entry.name
        department.name_en = entry.name_en
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


def catalogue_published(entries: list[DepartmentEntry]) -> CataloguePublished:
    """The event that tells intake (and anyone else) what citizens may choose from."""
    return CataloguePublished(
        departments=tuple(
            CatalogueDepartment(
                code=e.code, name=e.name, name_en=e.name_en, categories=e.categories
            )
            for e in entries
        )
    )
