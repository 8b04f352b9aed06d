"""What dispatching reads for every case — the rules and the departments' names — kept in memory.

Read from the tables at most every FRESH_FOR seconds per database, and at once after an admin's
edit in this process (catalogue_api forgets it after commit): a case's dispatch then costs no
query for them, and never a flush of the batch's pending rows in the middle of a consumer batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.caching import TtlCache
from services.routing.catalogue import read_rules
from services.routing.dispatch import Rules
from services.routing.models import Department

FRESH_FOR = 30.0


@dataclass(frozen=True)
class Catalogue:
    rules: Rules
    department_names: dict[str, str]


_cache: TtlCache[str, Catalogue] = TtlCache(FRESH_FOR, max_entries=16)


def current_catalogue(session: Session) -> Catalogue:
    """The catalogue of `session`'s database, from memory when read less than FRESH_FOR s ago."""
    return _cache.get(str(session.get_bind().engine.url), lambda: read_catalogue(session))


def forget() -> None:
    """Read the catalogue afresh next time: it has been edited."""
    _cache.clear()


def read_catalogue(session: Session) -> Catalogue:
    # Reading must not flush what the caller's unit of work has pending: a consumer batch
    # flushes its orders together at commit.
    with session.no_autoflush:
        names = dict(session.execute(select(Department.code, Department.name)).tuples().all())
        return Catalogue(read_rules(session), names)
