"""Reporting's read model: one row per case, built from events only."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.db import NAMING_CONVENTION, UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CaseFact(Base):
    """What reporting knows of a case; filled in whichever order its events arrive."""

    __tablename__ = "case_facts"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    kind: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30), index=True)
    department_code: Mapped[str | None] = mapped_column(String(40), index=True)
    department_name: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
