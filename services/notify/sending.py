"""Handing a recorded message to the gateway, exactly once."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import ColumnElement, func, select, update

from services.kernel.clock import utcnow
from services.kernel.events.contracts import ACKNOWLEDGEMENT_RECIPIENT, MessageSent
from services.kernel.sealing import sealer_for
from services.kernel.work import Work, WorkOpener
from services.notify import receipts
from services.notify.gateways import Gateway, GatewayError, OutgoingSms
from services.notify.gateways.email import EmailGateway, OutgoingEmail
from services.notify.models import DeliveryWatch, EmailEnvelope, Message, MessagePart
from services.notify.scheduling import carried_by
from services.notify.sealed import recipient_of

log = logging.getLogger(__name__)

# A queued message older than this has lost its task (a crash between commit and enqueue).
STALE_AFTER = timedelta(seconds=30)
# A message no gateway took this long after it was due fails (Celery's own retries, capped at
# 5 minutes apart, have had about ten goes by then); the citizen is reached another way.
GIVE_UP_AFTER = timedelta(hours=1)
GIVE_UP_BATCH = 500
# An SMS stamped as being handed over this long ago, and still not sent, was in the hands of a
# process that died: far longer than any handover takes (the gateway's timeouts are seconds).
HANDOVER_GRACE = timedelta(minutes=5)
CUT_SHORT = "the sending process stopped mid-handover; not sent again, so as never to send twice"


def deliver(
    open_work: WorkOpener,
    gateway: Gateway,
    message_ids: Sequence[uuid.UUID],
    email_gateway: EmailGateway | None = None,
) -> None:
    """Send the queued messages among `message_ids`; those already sent (a retry) are left alone.

    SMS go to `gateway`, emails to `email_gateway`. A gateway that cannot tell a repeat (SMPP)
    has each handover stamped and committed before it starts (`stamp_handovers`), so that a
    process dying mid-send leaves a mark, and the message is never sent a second time.
    """
    stamp: datetime | None = None
    if not gateway.dedupes:
        stamp = stamp_handovers(open_work, message_ids)
    try:
        _hand_over(open_work, gateway, message_ids, email_gateway, stamp)
    except GatewayError:
        # The gateway said what it did not take: those may go again on the task's retry (what
        # it did take, it remembers), so their stamps must not pass for a crash's.
        if stamp is not None:
            _unstamp(open_work, message_ids, stamp)
        raise


def stamp_handovers(
    open_work: WorkOpener, message_ids: Sequence[uuid.UUID], now: datetime | None = None
) -> datetime:
    """Stamp the queued SMS among `message_ids` as being handed over now; returns the stamp.

    An SMS already stamped is being handed over by another task (a stale-message re-queue
    racing the first), or was when its process died. Within HANDOVER_GRACE it is left to
    that task; past it, the handover was cut short: whether the gateway took the message is
    unknown, so it is not sent again but expires, and the citizen is reached another way.
    """
    now = now or utcnow()
    with open_work() as work:
        stamped = work.session.scalars(
            select(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status == "queued",
                Message.channel == "sms",
            )
            .order_by(Message.created_at)
            .with_for_update(skip_locked=True)
        ).all()
        for message in stamped:
            if message.handover_at is None:
                message.handover_at = now
            elif message.handover_at < now - HANDOVER_GRACE:
                log.warning("a handover was cut short", extra={"message_id": str(message.id)})
                receipts.finish(work, message, "expired", CUT_SHORT, now)
    return now


def _unstamp(open_work: WorkOpener, message_ids: Sequence[uuid.UUID], stamp: datetime) -> None:
    with open_work() as work:
        work.session.execute(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status == "queued",
                Message.handover_at == stamp,
            )
            .values(handover_at=None)
        )


def _hand_over(
    open_work: WorkOpener,
    gateway: Gateway,
    message_ids: Sequence[uuid.UUID],
    email_gateway: EmailGateway | None,
    stamp: datetime | None,
) -> None:
    with open_work() as work:
        messages = work.session.scalars(
            select(Message)
            .where(Message.id.in_(message_ids), Message.status == "queued")
            .order_by(Message.created_at)
            .with_for_update()
        ).all()
        if stamp is not None:
            # Only the SMS this task stamped: any other is in another task's hands.
            messages = [m for m in messages if m.channel != "sms" or m.handover_at == stamp]
        if not messages:
            return
        # A deduping gateway (file, HTTP) tells a repeat by the message id, so a crash after
        # this line cannot double-send; an SMPP handover is guarded by its stamp instead.
        sms = [m for m in messages if m.channel == "sms"]
        refused: Mapping[str, str] = {}
        if sms:
            secret_key = work.settings.secret_key
            handover = gateway.send([_outgoing(m, secret_key) for m in sms])
            refused = handover.refused
            if gateway.sends_receipts:
                timeout = timedelta(seconds=work.settings.sms_receipt_timeout)
                record_handover(work, sms, handover.refs, timeout)
        emails = [m for m in messages if m.channel == "email"]
        if emails:
            if email_gateway is None:
                raise GatewayError("no email gateway in this process")
            email_gateway.send(_emails(work, emails))
        sent_at = utcnow()
        for message in messages:
            if str(message.id) in refused:
                receipts.finish(work, message, "failed", refused[str(message.id)], sent_at)
                continue
            message.status = "sent"
            message.sent_at = sent_at
            # A digest's cases each hear it went, under the id of the message it carries.
            for told in [message, *carried_by(work.session, message)]:
                work.publish(
                    MessageSent(
                        message_id=told.id,
                        case_id=told.case_id,
                        tracking_no=told.tracking_no,
                        template=told.template,
                        channel=cast(Literal["sms", "email"], message.channel),
                        segments=message.segments,
                    ),
                    case_id=told.case_id,
                )


def record_handover(
    work: Work,
    messages: Sequence[Message],
    refs: Mapping[str, Sequence[str]],
    timeout: timedelta,
) -> None:
    """Remember the gateway's reference of every part, and await the receipts until `timeout`."""
    due_at = utcnow() + timeout
    for message in messages:
        given = refs.get(str(message.id), ())
        for ref in dict.fromkeys(given):
            work.session.add(MessagePart(gateway_ref=ref, message_id=message.id))
        if given:
            work.session.add(DeliveryWatch(message_id=message.id, due_at=due_at))


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


def _emails(work: Work, messages: Sequence[Message]) -> list[OutgoingEmail]:
    envelopes = {
        e.message_id: e
        for e in work.session.scalars(
            select(EmailEnvelope).where(EmailEnvelope.message_id.in_([m.id for m in messages]))
        )
    }
    settings = work.settings
    sealer = sealer_for(settings.secret_key, ACKNOWLEDGEMENT_RECIPIENT)
    return [
        OutgoingEmail(
            message_id=str(m.id),
            sender=settings.mail_addresses[0],
            to=sealer.open(envelopes[m.id].sealed_to),
            subject=envelopes[m.id].subject,
            text=m.text,
            headers=json.loads(envelopes[m.id].headers),
            tracking_no=m.tracking_no,
            template=m.template,
        )
        for m in messages
    ]


def stale_message_ids(open_work: WorkOpener, older_than: timedelta = STALE_AFTER) -> list[str]:
    """Messages still queued after `older_than`: their task was lost and must be queued again."""
    with open_work() as work:
        return [
            str(i)
            for i in work.session.scalars(
                select(Message.id)
                .where(Message.status == "queued", _queued_since() < utcnow() - older_than)
                .limit(1000)
            )
        ]


def give_up_undelivered(open_work: WorkOpener, now: datetime | None = None) -> int:
    """Fail the messages no gateway took within GIVE_UP_AFTER of being due; returns how many.

    Their citizens are reached another way (email, else the call-back list), as after a failed
    receipt. Without this a gateway that stays down would keep them queued for ever: each
    re-queueing of a stale message starts its task's retries afresh.
    """
    now = now or utcnow()
    with open_work() as work:
        stuck = work.session.scalars(
            select(Message)
            .where(Message.status == "queued", _queued_since() < now - GIVE_UP_AFTER)
            .order_by(Message.created_at)
            .limit(GIVE_UP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        hours = GIVE_UP_AFTER.total_seconds() / 3600
        for message in stuck:
            reason = f"no gateway took it within {hours:g} h of its time"
            receipts.finish(work, message, "failed", reason, now)
        return len(stuck)


def _queued_since() -> ColumnElement[datetime]:
    """When a message became due: a held one at the end of the quiet hours, others at once."""
    return func.coalesce(Message.not_before, Message.created_at)
