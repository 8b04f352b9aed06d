"""Reporting's read model: one row per case, built from events only."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Integer, MetaData, String, Uuid, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.db import NAMING_CONVENTION, UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CaseFact(Base):
    """What reporting knows of a case; filled in whichever order its events arrive.

    Each `*_at` is the first time the case reached that step, so a period counts a case once;
    `*_set_at` remember which event a value came from, so the latest one wins in any order.
    """

    __tablename__ = "case_facts"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    kind: Mapped[str | None] = mapped_column(String(20), index=True)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    department_code: Mapped[str | None] = mapped_column(String(40), index=True)
    department_name: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_directly: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    handling_seconds: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    returns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    rehandles: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    urges: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    supervisions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervised_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    rating: Mapped[str | None] = mapped_column(String(30))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    scope_level: Mapped[str | None] = mapped_column(String(20), index=True)
    # Where the case is, read from its address down to the village: never the house itself.
    township: Mapped[str | None] = mapped_column(String(40), index=True)
    village: Mapped[str | None] = mapped_column(String(40), index=True)
    # The official who took the case on a visit (包联干部), for the assessment of officials.
    first_contact_id: Mapped[str | None] = mapped_column(String(64), index=True)
    first_contact_name: Mapped[str | None] = mapped_column(String(100))
    revisits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revisited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # The first moment the case stopped being open: resolved, answered, closed or merged.
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class MessageFact(Base):
    """A message notify sent about a case, and whether it arrived; any order of its events."""

    __tablename__ = "message_facts"

    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    channel: Mapped[str | None] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(60))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class CaseReturn(Base):
    """A work order a department sent back (退单): the return counts against that department,
    not the one the case went to next."""

    __tablename__ = "case_returns"

    # A returned work order is finished: the case goes on in a new one, so one row per order.
    work_order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    department_code: Mapped[str | None] = mapped_column(String(40), index=True)
    returned_at: Mapped[datetime] = mapped_column(UtcDateTime)
