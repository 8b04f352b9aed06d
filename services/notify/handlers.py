"""Notify turns the events a citizen must hear about into messages, one per recipient and step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import CaseAssigned, CaseMerged, CaseSubmitted
from services.kernel.work import Work
from services.notify.models import CaseContact, CaseMerge, Message
from services.notify.sealed import sms_address
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
        # The citizens of cases merged into this one hear of it too.
        sent: set[str] = set()
        for recipient in (contact, *followers(work, event.case_id)):
            queue_sms(work, recipient, message, skip=sent)
        return
    queue_sms(work, contact, message)


def remember_contact(work: Work, event: CaseSubmitted) -> CaseContact:
    # A case is submitted once and the inbox runs this once per event, so the row is new.
    contact = CaseContact(
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        phone=event.contact.phone,
        email=event.contact.email,
        sealed_contact=event.sealed_contact,
    )
    work.session.add(contact)
    return contact


def queue_sms(
    work: Work, contact: CaseContact, message: RenderedMessage, *, skip: set[str] | None = None
) -> None:
    """Record the message (once per event, recipient and template) and queue its sending.

    Nothing for a contact without a phone, nor for a recipient in `skip`, which then gains it:
    one event texts each number once, however many of its cases follow the event's case.
    """
    assert work.envelope is not None
    address = sms_address(contact, work.settings.secret_key)
    if address is None or (skip is not None and address.recipient in skip):
        return
    if skip is not None:
        skip.add(address.recipient)
    # The inbox runs this once per event; the unique constraint backs it up.
    record = Message(
        id=uuid.uuid4(),
        event_id=work.envelope.id,
        recipient=address.recipient,
        sealed_recipient=address.sealed,
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


def followers(work: Work, case_id: uuid.UUID) -> list[CaseContact]:
    """The contacts of the cases merged into `case_id`."""
    # Without a flush: this batch's pending messages are no business of the query.
    with work.session.no_autoflush:
        return list(
            work.session.scalars(
                select(CaseContact)
                .join(CaseMerge, CaseMerge.case_id == CaseContact.case_id)
                .where(CaseMerge.into_case_id == case_id)
                .order_by(CaseContact.tracking_no)
            )
        )


@subscriptions.subscribe(CaseMerged)
def merged_case_messages(event: CaseMerged, work: Work) -> None:
    """Tell the merged case's citizen which case they now follow, and follow it for them.

    Citizens of cases merged into this one before follow the new case too, and hear so.
    """
    assert work.envelope is not None
    contact = work.session.get(CaseContact, event.case_id)
    if contact is None:
        raise RetryLater(f"case {event.case_id} not yet known to notify")
    earlier = list(
        work.session.scalars(select(CaseMerge).where(CaseMerge.into_case_id == event.case_id))
    )
    sent: set[str] = set()
    for joined in (contact, *followers(work, event.case_id)):
        message = render(
            "case_merged",
            work.settings.sms_signature,
            tracking_no=joined.tracking_no,
            into_tracking_no=event.into_tracking_no,
        )
        queue_sms(work, joined, message, skip=sent)
    for merge in earlier:
        merge.into_case_id = event.into_case_id
    work.session.add(
        CaseMerge(
            case_id=event.case_id,
            into_case_id=event.into_case_id,
            merged_at=work.envelope.occurred_at,
        )
    )
