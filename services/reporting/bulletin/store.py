"""Bulletins as produced: each one's content kept, so it reads the same however late events
change the read model afterwards."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String, Uuid, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.kernel.db import UtcDateTime
from services.reporting.bulletin.content import Bulletin
from services.reporting.models import Base

ON_DEMAND = "on-demand"


class StoredBulletin(Base):
    """One bulletin: weekly, monthly (by the schedule) or on demand."""

    __tablename__ = "bulletins"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    produced_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Set for scheduled bulletins only (NULLs never clash): one per period whichever process
    # produces it first; on demand the same period may be produced again.
    schedule_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)

    def bulletin(self) -> Bulletin:
        return Bulletin.model_validate(self.content)


def stored(kind: str, bulletin: Bulletin, now: datetime, key: str | None = None) -> StoredBulletin:
    return StoredBulletin(
        id=uuid.uuid4(),
        kind=kind,
        first_day=bulletin.first,
        last_day=bulletin.last,
        produced_at=now,
        schedule_key=key,
        content=bulletin.model_dump(mode="json"),
    )


def is_stored(session: Session, key: str) -> bool:
    found = session.scalar(select(StoredBulletin.id).where(StoredBulletin.schedule_key == key))
    return found is not None


def add_once(session: Session, bulletin: StoredBulletin) -> bool:
    """Add a scheduled bulletin unless another process stored its period first."""
    try:
        with session.begin_nested():
            session.add(bulletin)
    except IntegrityError:
        return False
    return True


def latest(session: Session, limit: int, offset: int = 0) -> list[StoredBulletin]:
    """Stored bulletins, newest first."""
    return list(
        session.scalars(
            select(StoredBulletin)
            .order_by(StoredBulletin.produced_at.desc(), StoredBulletin.id)
            .limit(limit)
            .offset(offset)
        )
    )
