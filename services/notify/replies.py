"""A citizen's SMS reply (MO) as a gateway hands it over, published as `citizen.replied`."""

from __future__ import annotations

from sqlalchemy import or_, select

from services.kernel.events.contracts import CitizenReplied
from services.kernel.sealing import keyed_digest
from services.kernel.work import Work
from services.notify.gateways import InboundSms
from services.notify.models import Message
from services.notify.sealed import RECIPIENT_DIGEST


def take_reply(work: Work, reply: InboundSms) -> None:
    """Publish the reply, on the case last messaged to its sender's number (if any)."""
    sender = national_number(reply.sender)
    # A tip-off reporter's number is kept only as its keyed digest.
    digest = "sealed:" + keyed_digest(work.settings.secret_key, RECIPIENT_DIGEST, sender)
    last = work.session.scalars(
        select(Message)
        .where(or_(Message.recipient == sender, Message.recipient == digest))
        .where(Message.case_id.is_not(None))
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()
    work.publish(
        CitizenReplied(
            case_id=last.case_id if last else None,
            tracking_no=last.tracking_no if last else None,
            text=reply.text,
            received_at=reply.received_at,
            gateway_ref=reply.gateway_ref,
        ),
        case_id=last.case_id if last else None,
    )


def national_number(number: str) -> str:
    """A mobile number as cases keep it: without +86 or 86 before the eleven digits."""
    digits = number.removeprefix("+")
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits
