"""Intake's tables: the cases as citizens submitted them, their timeline, tracking numbers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    true,
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
    # The address as duplicate detection compares it (similarity.normalise_address), so that
    # the database finds a place's other cases instead of the sweep reading the whole category.
    address_key: Mapped[str | None] = mapped_column(String(500))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # similarity.grid_cell of (lat, lon): how duplicate detection finds the places near one.
    grid_cell: Mapped[str | None] = mapped_column(String(40))
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
    # Keyed fingerprints of the contact's phone and email (tip-offs too), to find repeats
    # without reading a contact; see duplicates.contact_fingerprint.
    phone_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    email_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    # False until duplicate detection has compared the case with the week's others.
    duplicates_checked: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # The case this one was merged into (并单); it is followed there from then on.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)

    timeline: Mapped[list[TimelineEntry]] = relationship(
        order_by="TimelineEntry.id", back_populates="case"
    )


# Duplicate detection reads a category's cases of one week, near a point or at one address.
Index("ix_cases_category_submitted_at", Case.category, Case.submitted_at)
Index("ix_cases_category_address_key", Case.category, Case.address_key)
Index("ix_cases_category_grid_cell", Case.category, Case.grid_cell)
# The few cases awaiting duplicate detection, found without reading the many that are not.
Index(
    "ix_cases_awaiting_duplicate_check",
    Case.submitted_at,
    postgresql_where=Case.duplicates_checked.is_(False),
    sqlite_where=Case.duplicates_checked.is_(False),
)


class TimelineEntry(Base):
    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="timeline")


class CaseMessage(Base):
    """A message notify sent to the case's citizen and how it ended; see `messages`.

    No foreign key to `cases`: the rows come from notify's events, written a batch at a time,
    and a case's messages are only ever read by its id.
    """

    __tablename__ = "case_messages"

    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    template: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    # Unknown until `message.sent` arrives; never known for a message the gateway refused.
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10))
    status_at: Mapped[datetime] = mapped_column(UtcDateTime)


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


# A repeat caller is found by their number among earlier cases.
Index("ix_cases_contact_phone", Case.contact_phone)


class KnowledgeEntry(Base):
    """An answer operators read out to a consultation on the call."""

    __tablename__ = "knowledge_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    # Words a caller might use that the question does not, separated by spaces or commas.
    keywords: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_by_name: Mapped[str] = mapped_column(String(50))


class HotlineCall(Base):
    """A call an operator recorded as a case."""

    __tablename__ = "hotline_calls"

    call_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    # Any number the caller rang from, a landline too; empty when withheld, and for a tip-off,
    # whose reporter is known only sealed.
    caller_number: Mapped[str | None] = mapped_column(String(20), index=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    # What the operator told the caller, in full (the timeline keeps the first 500 characters).
    answer: Mapped[str | None] = mapped_column(Text)
    knowledge_entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Callback(Base):
    """A caller whose calls were missed, waiting for someone to reach them."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller_number: Mapped[str] = mapped_column(String(20), index=True)
    first_missed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_missed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    missed_calls: Mapped[int] = mapped_column(Integer)
    # Open while null; "reached" by a call back, or "called-in" when the caller rang again.
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_reason: Mapped[str | None] = mapped_column(String(20))
    closed_note: Mapped[str | None] = mapped_column(String(200))

    attempts: Mapped[list[CallbackAttempt]] = relationship(order_by="CallbackAttempt.id")


class MissedCall(Base):
    """One missed call, by the telephony system's call id, so a repeated report counts once."""

    __tablename__ = "missed_calls"

    call_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    missed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallbackAttempt(Base):
    """Someone tried to call a missed caller back."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    staff_id: Mapped[str] = mapped_column(String(64))
    staff_name: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))


class Visit(Base):
    """An official's household visit or village meeting; each problem raised became a case."""

    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_type: Mapped[str] = mapped_column(String(20))
    household_head: Mapped[str | None] = mapped_column(String(50))
    participants: Mapped[str | None] = mapped_column(Text)
    township: Mapped[str | None] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    visited_on: Mapped[date] = mapped_column(Date)
    official_id: Mapped[str] = mapped_column(String(64), index=True)
    official_name: Mapped[str] = mapped_column(String(50))
    official_unit: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    cases: Mapped[list[VisitCase]] = relationship(order_by="VisitCase.position")


class VisitCase(Base):
    """The case a visit's problem became, in the order the problems were raised."""

    __tablename__ = "visit_cases"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)

    case: Mapped[Case] = relationship()


class Resolution(Base):
    """A department's answer to the citizen when it resolved the case (from `case.resolved`)."""

    __tablename__ = "resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    department_code: Mapped[str] = mapped_column(String(40))
    department_name: Mapped[str] = mapped_column(String(100))
    reply: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Rating(Base):
    """The citizen's rating of a resolved case; one per case."""

    __tablename__ = "ratings"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    rating: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DuplicateLink(Base):
    """A case that may repeat an earlier one, waiting for the dispatcher to merge or dismiss."""

    __tablename__ = "duplicate_links"
    __table_args__ = (UniqueConstraint("case_id", "candidate_case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    # The earlier case it may repeat.
    candidate_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True)
    found_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class ReporterDisclosure(Base):
    """Who read a tip-off reporter's identity, when, and why: one row per disclosure."""

    __tablename__ = "reporter_disclosures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    staff_id: Mapped[str] = mapped_column(String(64))
    staff_name: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(String(500))
    disclosed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Open311Client(Base):
    """A program allowed to submit cases over Open311; its API key is kept only as a hash."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Open311Request(Base):
    """What an Open311 submission brought beyond its case: the client that sent it, its media."""

    __tablename__ = "open311_requests"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    # No foreign key on purpose: its check locks the client's row in every submission's
    # transaction, and one app's concurrent submissions then queue on that one row. Clients are
    # revoked, never deleted, so the id always names one.
    client_id: Mapped[int] = mapped_column(Integer, index=True)
    media_url: Mapped[str | None] = mapped_column(String(2000))


# Open311 lists cases newest first within a window of days.
Index("ix_cases_submitted_at", Case.submitted_at)


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
