"""What became of a sent SMS: receipts settle it, silence expires it, and then we try again.

A message is delivered when every part's receipt says so, failed (with the gateway's reason)
or expired as soon as one part is. Once it has failed or expired, the citizen is reached
another way: by email when they gave one, else the case goes on the operators' call-back list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, cast

from prometheus_client import Counter
from sqlalchemy import select

from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    CitizenUnreachable,
    MessageDelivered,
    MessageFailed,
)
from services.kernel.work import Work, WorkOpener
from services.notify.by_email import email_of, queue_email
from services.notify.gateways import DeliveryReceipt, InboundSms, NotYetKnown, ReceiptStatus
from services.notify.models import CaseContact, DeliveryWatch, Message, MessagePart
from services.notify.replies import take_reply

MESSAGES_SETTLED = Counter(
    "minqing_messages_settled_total",
    "Messages given their final status (delivered, failed, expired), by channel",
    ["channel", "status"],
)
FALLBACKS = Counter(
    "minqing_message_fallbacks_total",
    "Citizens an SMS did not reach, by the way they are reached instead (email, callback)",
    ["way"],
)

FINAL = ("delivered", "failed", "expired")
# Sweeps take this many overdue watches per transaction.
EXPIRY_BATCH = 200


class UnknownPart(NotYetKnown):
    """A receipt for a part not (yet) recorded: its sending has not committed; ask again later."""


def outcome(parts: Sequence[str | None]) -> ReceiptStatus | None:
    """A message's status from its parts' receipts; None while some are still awaited."""
    if "failed" in parts:
        return "failed"
    if "expired" in parts:
        return "expired"
    if parts and all(p == "delivered" for p in parts):
        return "delivered"
    return None


def apply_receipt(work: Work, receipt: DeliveryReceipt) -> None:
    """Settle the part the receipt names, and its message once every part is settled."""
    part = work.session.get(MessagePart, receipt.gateway_ref, with_for_update=True)
    if part is None:
        raise UnknownPart(receipt.gateway_ref)
    if part.status is not None:
        return  # the same receipt again
    part.status = receipt.status
    message = work.session.get_one(Message, part.message_id, with_for_update=True)
    if message.status in FINAL:
        return  # settled already, by another part or by the expiry sweep
    statuses = work.session.scalars(
        select(MessagePart.status).where(MessagePart.message_id == message.id)
    ).all()
    settled = outcome(statuses)
    if settled is not None:
        finish(work, message, settled, receipt.reason, receipt.received_at)


def finish(
    work: Work, message: Message, status: ReceiptStatus, reason: str | None, at: datetime
) -> None:
    """Give the message its final status, say so on the bus, and reach a citizen who missed it."""
    message.status = status
    channel = cast(Literal["sms", "email"], message.channel)
    work.after_commit(MESSAGES_SETTLED.labels(channel, status).inc)
    watch = work.session.get(DeliveryWatch, message.id)
    if watch is not None:
        work.session.delete(watch)
    if status == "delivered":
        work.publish(
            MessageDelivered(
                message_id=message.id,
                case_id=message.case_id,
                tracking_no=message.tracking_no,
                template=message.template,
                channel=channel,
                delivered_at=at,
            ),
            case_id=message.case_id,
        )
        return
    message.error = (reason or status)[:500]
    work.publish(
        MessageFailed(
            message_id=message.id,
            case_id=message.case_id,
            tracking_no=message.tracking_no,
            template=message.template,
            channel=channel,
            status=status,
            reason=message.error,
            failed_at=at,
        ),
        case_id=message.case_id,
    )
    reach_another_way(work, message, message.error)


def expire_overdue(open_work: WorkOpener, now: datetime | None = None) -> int:
    """Expire the messages whose receipts did not come in time; how many there were."""
    with open_work() as work:
        now = now or utcnow()
        watches = work.session.scalars(
            select(DeliveryWatch)
            .where(DeliveryWatch.due_at <= now)
            .order_by(DeliveryWatch.due_at)
            .limit(EXPIRY_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        timeout = work.settings.sms_receipt_timeout
        for watch in watches:
            message = work.session.get_one(Message, watch.message_id, with_for_update=True)
            if message.status in FINAL:
                work.session.delete(watch)
                continue
            for part in work.session.scalars(
                select(MessagePart).where(
                    MessagePart.message_id == message.id, MessagePart.status.is_(None)
                )
            ):
                part.status = "expired"
            finish(work, message, "expired", f"no delivery receipt within {timeout} s", now)
        return len(watches)


def reach_another_way(work: Work, message: Message, reason: str) -> None:
    """An SMS to a case's citizen did not arrive: email them if we can, else have them called."""
    if message.channel != "sms" or message.case_id is None or message.tracking_no is None:
        return
    contact = work.session.get(CaseContact, message.case_id)
    if contact is None or not _is_the_citizen(message, contact):
        return
    address = email_of(contact, work.settings.secret_key)
    if address is not None:
        # The failed SMS is what this email answers for: one email per SMS, however often asked.
        queue_email(
            work,
            event_id=message.id,
            contact=contact,
            address=address,
            template=message.template,
            text=message.text,
        )
        work.after_commit(FALLBACKS.labels("email").inc)
        return
    work.after_commit(FALLBACKS.labels("callback").inc)
    work.publish(
        CitizenUnreachable(
            case_id=message.case_id,
            tracking_no=message.tracking_no,
            message_id=message.id,
            template=message.template,
            reason=reason,
        ),
        case_id=message.case_id,
    )


def _is_the_citizen(message: Message, contact: CaseContact) -> bool:
    # A reporter's messages carry their number sealed; anyone else's is kept as it is.
    if contact.sealed_contact is not None:
        return message.sealed_recipient is not None
    return contact.phone is not None and message.recipient == contact.phone


class WorkListener:
    """Hands what a gateway receives to notify, each in a unit of work of its own."""

    def __init__(self, open_work: WorkOpener) -> None:
        self._open_work = open_work

    def receipt(self, receipt: DeliveryReceipt) -> None:
        with self._open_work() as work:
            apply_receipt(work, receipt)

    def inbound(self, sms: InboundSms) -> None:
        with self._open_work() as work:
            take_reply(work, sms)
