"""A tip-off reporter's address: opened only to address a message, and sealed again at rest.

`case.submitted` carries a tip-off's contact sealed (purpose "reporter-contact"); notify keeps
it so in `case_contacts`. A message to the reporter keeps in `recipient` only a keyed digest of
the number (one per recipient, as the table's unique key needs) and the number itself sealed
in `sealed_recipient`, which sending opens to hand the message to the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel.events.contracts import Contact
from services.kernel.sealing import REPORTER_CONTACT, keyed_digest, sealer_for
from services.notify.models import CaseContact, Message

SEALED_RECIPIENT = "message-recipient"
RECIPIENT_DIGEST = "message-recipient-digest"


@dataclass(frozen=True)
class Address:
    """Where a message goes, as the `messages` table keeps it."""

    recipient: str
    sealed: str | None = None


def sms_address(contact: CaseContact, secret_key: str) -> Address | None:
    """The phone to text, sealed for a tip-off's reporter; None when there is no phone."""
    if contact.sealed_contact is None:
        return Address(contact.phone) if contact.phone is not None else None
    opened = Contact.model_validate_json(
        sealer_for(secret_key, REPORTER_CONTACT).open(contact.sealed_contact)
    )
    if opened.phone is None:
        return None
    return Address(
        recipient="sealed:" + keyed_digest(secret_key, RECIPIENT_DIGEST, opened.phone),
        sealed=sealer_for(secret_key, SEALED_RECIPIENT).seal(opened.phone),
    )


def recipient_of(message: Message, secret_key: str) -> str:
    """The address to hand the gateway: the sealed one opened, else the recipient as kept."""
    if message.sealed_recipient is None:
        return message.recipient
    return sealer_for(secret_key, SEALED_RECIPIENT).open(message.sealed_recipient)
