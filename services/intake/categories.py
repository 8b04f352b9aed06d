"""The catalogue's categories as intake keeps them (see handlers.keep_catalogue), read cheaply.

Every Open311 submission names a service, that is a category; looking the names up for each
one cost a round trip per request. They change when an administrator edits the catalogue, so
they are kept in memory: this process forgets them as soon as it stores a new catalogue, and
another intake process (several may serve behind one address) within FRESH_FOR seconds.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from services.intake.models import CatalogueCategory
from services.kernel.caching import TtlCache

FRESH_FOR = 10.0

_NAMES = select(CatalogueCategory.category).order_by(CatalogueCategory.position)
_cache: TtlCache[str, tuple[str, ...]] = TtlCache(FRESH_FOR, max_entries=16)


def category_names(engine: Engine) -> tuple[str, ...]:
    """The categories in catalogue order, from memory when read less than FRESH_FOR s ago.

    Read on a connection of their own, and only when not in memory: a request's transaction
    stays as short as it was.
    """

    def read() -> tuple[str, ...]:
        with engine.connect() as connection:
            return tuple(connection.scalars(_NAMES))

    # Keyed by database, so that tests and benchmarks with several databases never mix them.
    return _cache.get(str(engine.url), read)


def forget() -> None:
    """Read the categories afresh next time: a new catalogue has been committed."""
    _cache.clear()
