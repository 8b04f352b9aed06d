"""Notify turns the events a citizen must hear about into messages, one per recipient and step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import CaseAssigned, CaseSubmitted
from services.kernel.work import Work
from services.notify.models import CaseContact, Message
from services.notify.tasks import SEND_MESSAGES
from services.notify.templates import RenderedMessage, format_date, render

subscriptions = Subscriptions("notify")


def contacts_of(
    session: Session, events: Sequence[CaseSubmitted | CaseAssigned]
) -> list[CaseContact]:
    wanted = {e.case_id for e in events if isinstance(e, CaseAssigned)}
    if not wanted:
        return []
    return list(session.scalars(select(CaseContact).where(CaseContact.case_id.in_(wanted))))


@subscriptions.subscribe(CaseSubmitted, CaseAssigned, preload=contacts_of)
def citizen_messages(event: CaseSubmitted | CaseAssigned, work: Work) -> None:
    signature = work.settings.sms_signature
    if isinstance(event, CaseSubmitted):
        contact = remember_contact(work, event)
        message = render(
            "case_received",
            signature,
            tracking_no=event.tracking_no,
            access_code=event.access_code,
            promised_date=format_date(event.promised_date),
        )
    else:
        found = work.session.get(CaseContact, event.case_id)
        if found is None:
            raise RetryLater(f"case {event.case_id} not yet known to notify")
        contact = found
        message = render(
            "case_dispatched",
            signature,
            tracking_no=event.tracking_no,
            department=event.department_name,
            deadline=format_date(event.deadline),
        )
    if contact.phone is not None:
        queue_sms(work, contact, message)


def remember_contact(work: Work, event: CaseSubmitted) -> CaseContact:
    # A case is submitted once and the inbox runs this once per event, so the row is new.
    contact = CaseContact(
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        phone=event.contact.phone,
        email=event.contact.email,
    )
    work.session.add(contact)
    return contact


def queue_sms(work: Work, contact: CaseContact, message: RenderedMessage) -> None:
    """Record the message (once per event, recipient and template) and queue its sending."""
    assert work.envelope is not None
    assert contact.phone is not None
    # The inbox runs this once per event; the unique constraint backs it up.
    record = Message(
        id=uuid.uuid4(),
        event_id=work.envelope.id,
        recipient=contact.phone,
        template=message.template,
        channel="sms",
        case_id=contact.case_id,
        tracking_no=contact.tracking_no,
        text=message.text,
        segments=message.segments,
        status="queued",
        created_at=utcnow(),
    )
    work.session.add(record)
    work.enqueue(SEND_MESSAGES, str(record.id))
