"""Notify's tables: how to reach each case's citizen, and every message with its status."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.kernel.clock import utcnow
from services.kernel.db import NAMING_CONVENTION, UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CaseContact(Base):
    """Learned from `case.submitted`: where this case's citizen hears from us."""

    __tablename__ = "case_contacts"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # A tip-off's reporter, still sealed as `case.submitted` carried it; phone and email stay
    # empty, and it is opened only to address a message.
    sealed_contact: Mapped[str | None] = mapped_column(Text)
    # The language the citizen chose when submitting: their messages are written in it.
    language: Mapped[str] = mapped_column(String(2), server_default=text("'zh'"))


class Message(Base):
    """One message to one recipient because of one event; never two for the same triple."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "template"),
        Index("ix_messages_recipient_counted_on", "recipient", "counted_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    tracking_no: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    # queued → sent → delivered | failed (error says why) | expired (no receipt in time)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # For a tip-off's reporter: `recipient` holds a keyed digest, the address is sealed here
    # and opened only to hand the message to the gateway.
    sealed_recipient: Mapped[str | None] = mapped_column(Text)
    # Held for the quiet hours or capped: not handed to the gateway before this moment.
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The local day the message counts on towards the number's daily cap; none if not sent.
    counted_on: Mapped[date | None] = mapped_column(Date)
    # For a capped message: the digest that carried it.
    digest_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # When a gateway that cannot tell a repeat (SMPP) began taking this SMS, committed before
    # it did: still queued with this set long after, it was cut short by a crash.
    handover_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @classmethod
    def queued(
        cls,
        *,
        event_id: uuid.UUID,
        recipient: str,
        template: str,
        channel: str,
        case_id: uuid.UUID | None,
        tracking_no: str | None,
        text: str,
        segments: int = 0,
        sealed_recipient: str | None = None,
        message_id: uuid.UUID | None = None,
    ) -> Message:
        """A message recorded for sending, queued from now (an email counts no segments)."""
        return cls(
            id=message_id or uuid.uuid4(),
            event_id=event_id,
            recipient=recipient,
            sealed_recipient=sealed_recipient,
            template=template,
            channel=channel,
            case_id=case_id,
            tracking_no=tracking_no,
            text=text,
            segments=segments,
            status="queued",
            created_at=utcnow(),
        )


class CaseMerge(Base):
    """Learned from `case.merged`: this case's citizen now hears about the case it joined."""

    __tablename__ = "case_merges"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    into_case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EmailEnvelope(Base):
    """What an email message needs beyond its text: where it goes, its subject, its headers.

    The address stays sealed as intake sealed it (it may be a tip-off reporter's) and is opened
    only to hand the message to the gateway.
    """

    __tablename__ = "email_envelopes"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    sealed_to: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    # JSON object: Message-ID, In-Reply-To, References and the other headers the mail carries.
    headers: Mapped[str] = mapped_column(Text)

    # So that a message and its envelope added together are inserted in that order.
    message: Mapped[Message] = relationship()


class OptOut(Base):
    """A number that replied to opt out: it gets only essential messages (see policy)."""

    __tablename__ = "opt_outs"

    # As `messages.recipient` keeps it: the number, or a tip-off reporter's keyed digest.
    recipient: Mapped[str] = mapped_column(String(254), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseProgress(Base):
    """Where each case stands, learned from events, to answer a citizen's "JD" and rating."""

    __tablename__ = "case_progress"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    department_name: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[date | None] = mapped_column(Date)
    into_tracking_no: Mapped[str | None] = mapped_column(String(20))
    # The moment of the event that set `status`; an older event arriving late changes nothing.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Reply(Base):
    """A citizen's SMS taken in, once: its id is derived from the gateway's reference."""

    __tablename__ = "replies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    meaning: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Department(Base):
    """Learned from `catalogue.contacts_published`: how messages name a department."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    # When routing published the catalogue this row comes from: an older event changes nothing.
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LiaisonOfficer(Base):
    """Learned from `catalogue.contacts_published`: who hears of a department's work orders."""

    __tablename__ = "liaison_officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))


class ExtensionRequest(Base):
    """A department's reasons for a later deadline, kept to tell the citizen once it is approved."""

    __tablename__ = "extension_requests"

    work_order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)


class MessagePart(Base):
    """One part of a sent SMS as the gateway knows it, by the reference its receipt will name."""

    __tablename__ = "message_parts"

    gateway_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), index=True)
    # None until its receipt comes: then delivered, failed or expired.
    status: Mapped[str | None] = mapped_column(String(20))


class DeliveryWatch(Base):
    """A sent SMS whose receipt we wait for; past `due_at`, the citizen is reached another way.

    The row goes when the receipt comes or the time runs out, so the table holds only the
    messages in flight.
    """

    __tablename__ = "delivery_watches"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
