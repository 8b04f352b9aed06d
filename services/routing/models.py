"""Routing's tables: departments, the dispatch catalogue's terms, and work orders."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kernel.db import NAMING_CONVENTION, UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DispatchTerm(Base):
    """A category or keyword that sends a case to a department."""

    __tablename__ = "dispatch_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    term_type: Mapped[str] = mapped_column(String(20))
    term: Mapped[str] = mapped_column(String(100))


class WorkOrder(Base):
    """Routing's record of one department's job on a case (or of the case awaiting dispatch)."""

    __tablename__ = "work_orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    tracking_no: Mapped[str] = mapped_column(String(20), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    status: Mapped[str] = mapped_column(String(30), index=True)
    matched_by: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(500))
    deadline: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The clock (services.routing.deadlines writes these): `deadline` above is the local date of
    # `due_at`, the moment the department's time runs out; None before dispatch.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deadline_basis: Mapped[str | None] = mapped_column(String(12))
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_working_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the scan is to remind, urge and supervise, and when it did: each once per order.
    remind_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    urge_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    supervise_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    urged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    supervised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Every urge and supervision, by the scan or by hand (each one is in `escalations`).
    urges: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervisions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Escalation(Base):
    """An urge (催办) or a supervision (督办) of a work order, by the scan or by a supervisor."""

    __tablename__ = "escalations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    automatic: Mapped[bool] = mapped_column(Boolean)
    staff_id: Mapped[str | None] = mapped_column(String(64))
    staff_name: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffMember(Base):
    """A member of staff who signs in; their token carries what this row says."""

    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    # Space-separated role names (kernel.auth.ROLES).
    roles: Mapped[str] = mapped_column(String(200))
    # A handler works one department's queue.
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    unit: Mapped[str | None] = mapped_column(String(100))
    # `scrypt$n$r$p$salt$digest`, so the cost can be raised without losing older hashes.
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
