"""Handing a recorded message to the gateway, exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy import select

from services.kernel.clock import utcnow
from services.kernel.events.contracts import MessageSent
from services.kernel.work import Work
from services.notify.gateways import Gateway, OutgoingSms
from services.notify.models import Message
from services.notify.sealed import recipient_of

WorkOpener = Callable[[], AbstractContextManager[Work]]
# A queued message older than this has lost its task (a crash between commit and enqueue).
STALE_AFTER = timedelta(seconds=30)


def deliver(open_work: WorkOpener, gateway: Gateway, message_ids: Sequence[uuid.UUID]) -> None:
    """Send the queued messages among `message_ids`; those already sent (a retry) are left alone."""
    with open_work() as work:
        messages = work.session.scalars(
            select(Message)
            .where(Message.id.in_(message_ids), Message.status == "queued")
            .order_by(Message.created_at)
            .with_for_update()
        ).all()
        if not messages:
            return
        # The gateway dedupes on the message id, so a crash after this line cannot double-send.
        secret_key = work.settings.secret_key
        gateway.send([_outgoing(m, secret_key) for m in messages])
        sent_at = utcnow()
        for message in messages:
            message.status = "sent"
            message.sent_at = sent_at
            work.publish(
                MessageSent(
                    message_id=message.id,
                    case_id=message.case_id,
                    tracking_no=message.tracking_no,
                    template=message.template,
                    channel="sms",
                    segments=message.segments,
                ),
                case_id=message.case_id,
            )


def _outgoing(message: Message, secret_key: str) -> OutgoingSms:
    return OutgoingSms(
        message_id=str(message.id),
        # A tip-off reporter's number is opened here, for the gateway, and nowhere else.
        to=recipient_of(message, secret_key),
        text=message.text,
        segments=message.segments,
        tracking_no=message.tracking_no,
        template=message.template,
    )


def stale_message_ids(open_work: WorkOpener, older_than: timedelta = STALE_AFTER) -> list[str]:
    """Messages still queued after `older_than`: their task was lost and must be queued again."""
    with open_work() as work:
        return [
            str(i)
            for i in work.session.scalars(
                select(Message.id)
                .where(Message.status == "queued", Message.created_at < utcnow() - older_than)
                .limit(1000)
            )
        ]
