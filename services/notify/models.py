"""Notify's tables: how to reach each case's citizen, and every message with its status."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, MetaData, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Message(Base):
    """One message to one recipient because of one event; never two for the same triple."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("event_id", "recipient", "template"),)

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
