"""Intake's tables: the cases as citizens submitted them, their timeline, tracking numbers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kernel.db import NAMING_CONVENTION, UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    access_code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(500))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # A tip-off's reporter: name, phone and email sealed together; the columns above stay empty.
    sealed_contact: Mapped[str | None] = mapped_column(Text)
    # The channel's own id for it: a call id, an email's Message-ID, an Open311 token.
    reference: Mapped[str | None] = mapped_column(String(255))
    # Who took it in and stays accountable for it (首问负责): a staff id, name and unit.
    first_contact_id: Mapped[str | None] = mapped_column(String(64), index=True)
    first_contact_name: Mapped[str | None] = mapped_column(String(50))
    first_contact_unit: Mapped[str | None] = mapped_column(String(100))
    urgency: Mapped[str] = mapped_column(String(20), server_default="normal")
    scope_level: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), server_default="zh")
    answered_directly: Mapped[bool] = mapped_column(Boolean, server_default=false())
    status: Mapped[str] = mapped_column(String(30))
    department_code: Mapped[str | None] = mapped_column(String(40))
    department_name: Mapped[str | None] = mapped_column(String(100))
    promised_date: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    timeline: Mapped[list[TimelineEntry]] = relationship(
        order_by="TimelineEntry.id", back_populates="case"
    )


class TimelineEntry(Base):
    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="timeline")


class TrackingSequence(Base):
    """The last tracking number handed out on each day."""

    __tablename__ = "tracking_sequences"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class IdempotencyKey(Base):
    """A channel's key for one submission (an `Idempotency-Key`, a Message-ID, a call id).

    The answer given the first time is kept sealed (it holds the access code), so a repeat gets
    the same answer; rows are purged after `IDEMPOTENCY_WINDOW`.
    """

    __tablename__ = "idempotency_keys"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sealed_receipt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class CatalogueCategory(Base):
    """A category a citizen may choose, as routing's latest `catalogue.published` lists it."""

    __tablename__ = "catalogue_categories"

    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    department_code: Mapped[str] = mapped_column(String(40))
    department_name: Mapped[str] = mapped_column(String(100))
    department_name_en: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Attachment(Base):
    """A file that came with a case or was added to it later; kept in the database with it."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EmailMessage(Base):
    """Every email intake took in, as it came, and what became of it (kept whatever it was).

    A tip-off's mail is the reporter's identity: its raw bytes are sealed and its sender is not
    kept in the clear.
    """

    __tablename__ = "email_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # The Message-ID, or a hash of the raw bytes for mail without one: a message is taken once.
    message_key: Mapped[str] = mapped_column(String(255), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(Text)
    received_via: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The Message-ID of the acknowledgement sent for the case this mail opened.
    acknowledgement_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    defects: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
