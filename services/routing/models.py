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
    Uuid,
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
    # The classifier's top departments with their confidence and the words behind each
    # (classifier.dispatching.Suggested.as_json); None when the catalogue's rules decided.
    suggestions: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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
