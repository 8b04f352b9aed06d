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
    # A case has one lead order and may have co-handling ones (会诊), each its own row.
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
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
    # "lead" answers for the case; a "co" order joins the handling under its lead (parent).
    role: Mapped[str] = mapped_column(String(4), default="lead")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_orders.id"))
    rehandles: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    # What waits on the dispatcher: a return's reason code and legal basis, an extension's date
    # and reasons. Cleared when the dispatcher decides.
    return_code: Mapped[str | None] = mapped_column(String(30))
    review_note: Mapped[str | None] = mapped_column(Text)
    requested_due: Mapped[date | None] = mapped_column(Date)


class WorkOrderAudit(Base):
    """One transition of a work order: who, in which role, when, from, to, and why."""

    __tablename__ = "work_order_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
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
