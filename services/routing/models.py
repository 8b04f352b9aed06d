"""Routing's tables: departments, the dispatch catalogue's terms, and work orders."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
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
    # functional | township | village | villager-group (dispatch.DEPARTMENT_KINDS).
    kind: Mapped[str] = mapped_column(String(20), server_default=text("'functional'"))
    # The territory a township or village government governs.
    territory_code: Mapped[str | None] = mapped_column(ForeignKey("territories.code"))


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
    scope_level: Mapped[str | None] = mapped_column(String(20))
    scope_suggested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    territory_code: Mapped[str | None] = mapped_column(String(40))
    major: Mapped[bool] = mapped_column(Boolean, server_default=false())
    priority: Mapped[str] = mapped_column(String(20), server_default=text("'normal'"))
    # The departments handling the case with the lead, in the order the catalogue named them.
    co_department_codes: Mapped[list[str]] = mapped_column(JSON, server_default=text("'[]'"))
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

    # The classifier's top departments with their confidence and the words behind each
    # (classifier.dispatching.Suggested.as_json); None when the catalogue's rules decided.
    suggestions: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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


class Territory(Base):
    """A township, a village or a villager group; each but a township lies in its parent."""

    __tablename__ = "territories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("territories.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LiaisonOfficer(Base):
    """A department's contact for work orders; the phone is personal data, for admins only."""

    __tablename__ = "liaison_officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))


class DispatchRuleVersion(Base):
    """One version of a dispatch rule; an edit or a retirement adds a version, never rewrites."""

    __tablename__ = "dispatch_rules"
    __table_args__ = (UniqueConstraint("rule_key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(64))
    territory_code: Mapped[str | None] = mapped_column(ForeignKey("territories.code"))
    scope_level: Mapped[str | None] = mapped_column(String(20))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    lead_department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    co_departments: Mapped[list[str]] = mapped_column(JSON)
    major: Mapped[bool] = mapped_column(Boolean)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class MajorKeyword(Base):
    """A word that makes a case a major matter (重大事项) wherever it appears."""

    __tablename__ = "major_keywords"

    term: Mapped[str] = mapped_column(String(50), primary_key=True)


class CatalogueChange(Base):
    """The audit of the dispatch catalogue: who changed what, when, from what, to what."""

    __tablename__ = "catalogue_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ClassifierModel(Base):
    """A trained dispatch classifier; the highest version is the one dispatch uses.

    `model` holds arrays in numpy's npz format, written only by our own train command or task
    and read back without pickle (classifier.model.Model.from_bytes), so it cannot run code.
    """

    __tablename__ = "classifier_models"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "file" (`minqing routing train --from`) or "decisions" (the dispatchers' own).
    source: Mapped[str] = mapped_column(String(20))
    examples: Mapped[int] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(JSON)
    # Cross-validated accuracy and macro F1 on the training examples, when there were enough.
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    model: Mapped[bytes] = mapped_column(LargeBinary)
