"""What became of a sent SMS: receipts settle it, silence expires it, and then we try again.

A message is delivered when every part's receipt says so, failed (with the gateway's reason)
or expired as soon as one part is. Once it has failed or expired, the citizen is reached
another way: by email when they gave one, else the case goes on the operators' call-back list.
"""

from __future__ import annotations

import uuid
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
from services.notify.gateways import DeliveryReceipt, InboundSms, ReceiptStatus
from services.notify.models import CaseContact, DeliveryWatch, Message, MessagePart
from services.notify.replies import take_reply
from services.notify.scheduling import carried_by

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


def outcome(parts: Sequence[str | None]) -> ReceiptStatus | None:
    """A message's status from its parts' receipts; None while some are still awaited."""
    if "failed" in parts:
        return "failed"
    if "expired" in parts:
        return "expired"
    if parts and all(p == "delivered" for p in parts):
        return "delivered"
    return None


def apply_receipts(work: Work, batch: Sequence[DeliveryReceipt]) -> list[DeliveryReceipt]:
    """Settle the parts the receipts name, and each message once every part is settled.

    Returns the receipts left untaken because they name parts not (yet) recorded: their
    sending has not committed, so they are to be asked again later. A receipt taken before
    (in this batch or an earlier one) changes nothing.
    """
    if not batch:
        return []
    refs = {r.gateway_ref for r in batch}
    owners = set(
        work.session.scalars(
            select(MessagePart.message_id).where(MessagePart.gateway_ref.in_(refs))
        )
    )
    # Messages before their parts, as sending and the expiry sweep take them, and each in key
    # order, so that batches running at once never deadlock.
    messages = {
        m.id: m
        for m in work.session.scalars(
            select(Message).where(Message.id.in_(owners)).order_by(Message.id).with_for_update()
        )
    }
    parts_of: dict[uuid.UUID, list[MessagePart]] = {}
    parts: dict[str, MessagePart] = {}
    for locked in work.session.scalars(
        select(MessagePart)
        .where(MessagePart.message_id.in_(messages))
        .order_by(MessagePart.gateway_ref)
        .with_for_update()
    ):
        parts_of.setdefault(locked.message_id, []).append(locked)
        parts[locked.gateway_ref] = locked
    untaken: list[DeliveryReceipt] = []
    # By message: the status it settles at and the receipt that settled it, as if the
    # receipts had come one at a time in the batch's order.
    settling: dict[uuid.UUID, tuple[ReceiptStatus, DeliveryReceipt]] = {}
    for receipt in batch:
        part = parts.get(receipt.gateway_ref)
        if part is None:
            untaken.append(receipt)
            continue
        if part.status is not None:
            continue
        part.status = receipt.status
        message = messages[part.message_id]
        if message.status in FINAL or message.id in settling:
            continue  # settled already, by another part or by the expiry sweep
        settled = outcome([p.status for p in parts_of[message.id]])
        if settled is not None:
            settling[message.id] = (settled, receipt)
    for message_id in sorted(settling):
        status, receipt = settling[message_id]
        finish(work, messages[message_id], status, receipt.reason, receipt.received_at)
    return untaken


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
    if status != "delivered":
        message.error = (reason or status)[:500]
    # A digest's cases each hear how it went, under the id of the message it carried; and
    # each of their citizens who missed it is reached another way, as for their own message.
    for told in [message, *carried_by(work.session, message)]:
        if status == "delivered":
            work.publish(
                MessageDelivered(
                    message_id=told.id,
                    case_id=told.case_id,
                    tracking_no=told.tracking_no,
                    template=told.template,
                    channel=channel,
                    delivered_at=at,
                ),
                case_id=told.case_id,
            )
            continue
        assert message.error is not None
        work.publish(
            MessageFailed(
                message_id=told.id,
                case_id=told.case_id,
                tracking_no=told.tracking_no,
                template=told.template,
                channel=channel,
                status=status,
                reason=message.error,
                failed_at=at,
            ),
            case_id=told.case_id,
        )
        reach_another_way(work, told, message.error)


def expire_overdue(open_work: WorkOpener, now: datetime | None = None) -> int:
    """Expire the messages whose receipts did not come in time; how many there were."""
    with open_work() as work:
        now = now or utcnow()
        # Each watch with its message, skipping those a receipt batch holds: the sweep never
        # waits on a batch, which takes messages before their watches.
        overdue = work.session.execute(
            select(DeliveryWatch, Message)
            .join(Message, Message.id == DeliveryWatch.message_id)
            .where(DeliveryWatch.due_at <= now)
            .order_by(DeliveryWatch.due_at)
            .limit(EXPIRY_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        timeout = work.settings.sms_receipt_timeout
        for watch, message in overdue:
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
        return len(overdue)


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
    """Hands what a gateway receives to notify: a batch of receipts in one unit of work, each
    citizen's reply in one of its own."""

    def __init__(self, open_work: WorkOpener) -> None:
        self._open_work = open_work

    def receipts(self, batch: Sequence[DeliveryReceipt]) -> list[DeliveryReceipt]:
        with self._open_work() as work:
            return apply_receipts(work, batch)

    def inbound(self, sms: InboundSms) -> None:
        with self._open_work() as work:
            take_reply(work, sms)
