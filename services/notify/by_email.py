"""A step notice by email: for a citizen who gave only an email, or whom the SMS did not reach.

The text is the SMS's, signature and all. The address stays sealed beside the message (it may
be a tip-off reporter's); the message's `recipient` keeps only a keyed digest of it, one per
address, as the table's unique key needs.
"""

from __future__ import annotations

import json
import uuid

from services.kernel.events.contracts import ACKNOWLEDGEMENT_RECIPIENT, Contact
from services.kernel.sealing import REPORTER_CONTACT, keyed_digest, sealer_for
from services.kernel.work import Work
from services.notify.models import CaseContact, EmailEnvelope, Message
from services.notify.sealed import RECIPIENT_DIGEST
from services.notify.task_names import SEND_MESSAGES


def email_of(contact: CaseContact, secret_key: str) -> str | None:
    """The citizen's email address, opened from the seal for a tip-off's reporter."""
    if contact.sealed_contact is None:
        return contact.email
    opened = Contact.model_validate_json(
        sealer_for(secret_key, REPORTER_CONTACT).open(contact.sealed_contact)
    )
    return opened.email


def email_recipient(secret_key: str, address: str) -> str:
    """What `messages.recipient` keeps of an email address."""
    return "email:" + keyed_digest(secret_key, RECIPIENT_DIGEST, address.lower())


def queue_email(
    work: Work,
    *,
    event_id: uuid.UUID,
    contact: CaseContact,
    address: str,
    template: str,
    text: str,
) -> Message:
    """Record the email (once per event, address and template) and queue its sending."""
    settings = work.settings
    message_id = uuid.uuid4()
    domain = settings.mail_addresses[0].partition("@")[2]
    return record_email(
        work,
        Message.queued(
            message_id=message_id,
            event_id=event_id,
            recipient=email_recipient(settings.secret_key, address),
            template=template,
            channel="email",
            case_id=contact.case_id,
            tracking_no=contact.tracking_no,
            text=text,
        ),
        sealed_to=sealer_for(settings.secret_key, ACKNOWLEDGEMENT_RECIPIENT).seal(address),
        subject=f"{settings.sms_signature.strip('【】[] ')} {contact.tracking_no}",
        headers={"Message-ID": f"<{message_id}@{domain}>", "Auto-Submitted": "auto-generated"},
    )


def record_email(
    work: Work, message: Message, *, sealed_to: str, subject: str, headers: dict[str, str]
) -> Message:
    """Record an email message with its envelope (where it goes, subject, headers) and queue
    its sending."""
    work.session.add(message)
    work.session.add(
        EmailEnvelope(
            message=message,
            sealed_to=sealed_to,
            subject=subject,
            headers=json.dumps(headers, ensure_ascii=False),
        )
    )
    work.enqueue(SEND_MESSAGES, str(message.id))
    return message
