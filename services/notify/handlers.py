"""Notify turns the events a citizen must hear about into messages, one per recipient and step."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import (
    CaseAssigned,
    CaseMerged,
    CaseSubmitted,
    EmailCaseOpened,
)
from services.kernel.work import Work
from services.notify.by_email import email_of, email_recipient, queue_email
from services.notify.models import CaseContact, CaseMerge, EmailEnvelope, Message
from services.notify.sealed import sms_address
from services.notify.tasks import SEND_MESSAGES
from services.notify.templates import (
    EMAIL_ACKNOWLEDGEMENT,
    RenderedMessage,
    format_date,
    render,
    render_email,
)

subscriptions = Subscriptions("notify")


# Where a batch's preload leaves the followers of its cases (see `followers`).
_FOLLOWERS = "notify.followers"


def contacts_of(
    session: Session, events: Sequence[CaseSubmitted | CaseAssigned]
) -> list[CaseContact]:
    """The batch's contacts, and the followers of its cases, in two queries for the batch."""
    wanted = {e.case_id for e in events if isinstance(e, CaseAssigned)}
    if not wanted:
        return []
    contacts = list(session.scalars(select(CaseContact).where(CaseContact.case_id.in_(wanted))))
    found: dict[uuid.UUID, list[CaseContact]] = {case_id: [] for case_id in wanted}
    for into_case_id, follower in session.execute(_followers_of(wanted)).tuples():
        found[into_case_id].append(follower)
    session.info[_FOLLOWERS] = found
    return [*contacts, *(f for listed in found.values() for f in listed)]


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

    A contact without a phone gets it by email, if they gave one; nothing goes to a recipient
    in `skip`, which then gains it: one event texts each number once, however many of its
    cases follow the event's case.
    """
    assert work.envelope is not None
    address = sms_address(contact, work.settings.secret_key)
    if address is None:
        email_instead(work, contact, message, skip=skip)
        return
    if skip is not None and address.recipient in skip:
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


def email_instead(
    work: Work, contact: CaseContact, message: RenderedMessage, *, skip: set[str] | None
) -> None:
    """The step notice by email, for a citizen who gave an email and no phone."""
    assert work.envelope is not None
    address = email_of(contact, work.settings.secret_key)
    if address is None:
        return
    recipient = email_recipient(work.settings.secret_key, address)
    if skip is not None:
        if recipient in skip:
            return
        skip.add(recipient)
    queue_email(
        work,
        event_id=work.envelope.id,
        contact=contact,
        address=address,
        template=message.template,
        text=message.text,
    )


def followers(work: Work, case_id: uuid.UUID) -> list[CaseContact]:
    """The contacts of the cases merged into `case_id`; known already when a preload found them."""
    preloaded: dict[uuid.UUID, list[CaseContact]] = work.session.info.get(_FOLLOWERS, {})
    if case_id in preloaded:
        return preloaded[case_id]
    # Without a flush: this batch's pending messages are no business of the query.
    with work.session.no_autoflush:
        return [contact for _, contact in work.session.execute(_followers_of({case_id})).tuples()]


def _followers_of(case_ids: set[uuid.UUID]) -> Select[uuid.UUID, CaseContact]:
    return (
        select(CaseMerge.into_case_id, CaseContact)
        .join(CaseMerge, CaseMerge.case_id == CaseContact.case_id)
        .where(CaseMerge.into_case_id.in_(case_ids))
        .order_by(CaseContact.tracking_no)
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


# Intake knows its own acknowledgements coming back by this header (channels/email/message.py).
ACKNOWLEDGEMENT_HEADER = "X-Minqing-Acknowledgement"


@subscriptions.subscribe(EmailCaseOpened)
def email_acknowledgement(event: EmailCaseOpened, work: Work) -> None:
    """Answer the citizen's email in its own thread with the case's tracking number."""
    assert work.envelope is not None
    settings = work.settings
    promised = (
        format_date(event.promised_date)
        if event.language == "zh"
        else f"{event.promised_date.day} {event.promised_date:%B %Y}"
    )
    subject, text = render_email(
        event.language,
        settings.sms_signature.strip("【】[] "),
        subject=event.subject,
        tracking_no=event.tracking_no,
        access_code=event.access_code,
        promised_date=promised,
    )
    headers = {
        "Message-ID": f"<{event.acknowledgement_id}>",
        "Auto-Submitted": "auto-replied",
        ACKNOWLEDGEMENT_HEADER: event.tracking_no,
    }
    if event.in_reply_to:
        headers["In-Reply-To"] = f"<{event.in_reply_to}>"
    if event.references:
        headers["References"] = " ".join(f"<{i}>" for i in event.references)
    message = Message(
        id=uuid.uuid4(),
        event_id=work.envelope.id,
        # The address stays sealed in the envelope: it may be a tip-off reporter's.
        recipient="(sealed)",
        template=EMAIL_ACKNOWLEDGEMENT,
        channel="email",
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        text=text,
        segments=0,
        status="queued",
        created_at=utcnow(),
    )
    work.session.add(message)
    work.session.add(
        EmailEnvelope(
            message=message,
            sealed_to=event.sealed_to,
            subject=subject,
            headers=json.dumps(headers, ensure_ascii=False),
        )
    )
    work.enqueue(SEND_MESSAGES, str(message.id))
