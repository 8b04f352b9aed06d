"""The messages sent to a case's citizen, with their delivery status, kept from notify's events.

Notify says when it handed a message to a gateway (`message.sent`) and how it ended
(`message.delivered`, `message.failed`); a message over the citizen's daily cap is first
merged into the next day's digest (`message.merged`), whose fate it then shares. Intake keeps
one row per message, and only what the citizen may see: which notice it was, by which channel,
when, and whether it arrived — never the number, the address or the text. Events may arrive in
any order: a receipt overtakes the send it answers when the two are published close together,
so a final status is never undone by a late `sent`, and a `sent` never by a late `merged`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.orm import Session

from services.intake.models import CaseMessage
from services.kernel.db import upsert_insert
from services.kernel.events.contracts import (
    MessageDelivered,
    MessageFailed,
    MessageMerged,
    MessageSent,
)
from services.kernel.work import Work

DeliveryStatus = Literal["merged", "sent", "delivered", "failed", "expired"]
MERGED: DeliveryStatus = "merged"
SENT: DeliveryStatus = "sent"
# How far along each status is: an update never takes a message back.
_STAGE: dict[str, int] = {MERGED: 0, SENT: 1, "delivered": 2, "failed": 2, "expired": 2}
# The channel a merged message's row keeps: it went as part of the digest SMS.
DIGEST = "digest"

# The notices a citizen receives, as the case page names them (Chinese, English). Staff
# messages (work_order_*, major_alert) are absent on purpose: what is not listed here is not
# the citizen's business and is not kept.
CITIZEN_TEMPLATES: dict[str, tuple[str, str]] = {
    "case_received": ("受理通知", "Case received"),
    "email_acknowledgement": ("受理回信", "Acknowledgement by email"),
    "case_answered_directly": ("当场答复通知", "Answered at once"),
    "case_dispatched": ("派单通知", "Case dispatched"),
    "case_accepted": ("签收通知", "Signed for by the department"),
    "case_material_requested": ("补充材料通知", "Material requested"),
    "case_extended": ("延期通知", "Deadline extended"),
    "case_resolved": ("办结通知", "Case resolved"),
    "case_revisited": ("回访通知", "Revisit"),
    "case_merged": ("并单通知", "Case merged"),
    "case_answered": ("答复通知", "Case answered"),
    "status_reply": ("进度查询回复", "Progress reply"),
    "opt_out_confirmed": ("退订确认", "Opt-out confirmed"),
    "opt_in_confirmed": ("恢复订阅确认", "Opt-in confirmed"),
}
CHANNEL_LABELS = {
    "sms": ("短信", "SMS"),
    "email": ("邮件", "Email"),
    DIGEST: ("每日汇总短信", "Daily digest SMS"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "merged": ("待随汇总短信发送", "To go in the daily digest"),
    "sent": ("已发送", "Sent"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("发送失败", "Failed"),
    "expired": ("未确认送达", "Not confirmed"),
}


@dataclass(frozen=True)
class MessageUpdate:
    """What one event tells of one message; None where it does not know."""

    message_id: uuid.UUID
    case_id: uuid.UUID
    template: str
    channel: str
    sent_at: datetime | None
    status: DeliveryStatus
    # When the status was reached: the send for `sent`, the receipt (or expiry) otherwise.
    status_at: datetime


MessageEvent = MessageMerged | MessageSent | MessageDelivered | MessageFailed


def update_from(event: MessageEvent, occurred_at: datetime) -> MessageUpdate | None:
    """The update an event brings, or None when it is no message to a case's citizen."""
    if event.case_id is None or event.template not in CITIZEN_TEMPLATES:
        return None
    channel: str = DIGEST if isinstance(event, MessageMerged) else event.channel
    if isinstance(event, MessageMerged):
        sent_at: datetime | None = None
        status: DeliveryStatus = MERGED
        status_at = event.merged_at
    elif isinstance(event, MessageSent):
        sent_at = occurred_at
        status = SENT
        status_at = occurred_at
    elif isinstance(event, MessageDelivered):
        sent_at, status, status_at = None, "delivered", event.delivered_at
    else:
        sent_at, status, status_at = None, event.status, event.failed_at
    return MessageUpdate(
        event.message_id, event.case_id, event.template, channel, sent_at, status, status_at
    )


def merge(earlier: MessageUpdate, later: MessageUpdate) -> MessageUpdate:
    """One message's two updates as one: the send time from whichever knows it, the status
    further along whatever the order (a message is settled once, so two finals never meet), and
    the digest's channel once it was merged into one."""
    ahead = earlier if _STAGE[earlier.status] >= _STAGE[later.status] else later
    channel = DIGEST if DIGEST in (earlier.channel, later.channel) else ahead.channel
    return replace(ahead, sent_at=earlier.sent_at or later.sent_at, channel=channel)


def fold(updates: Iterable[MessageUpdate]) -> list[MessageUpdate]:
    """One update per message, so a batch is written in one statement that touches a row once."""
    by_message: dict[uuid.UUID, MessageUpdate] = {}
    for update in updates:
        known = by_message.get(update.message_id)
        by_message[update.message_id] = update if known is None else merge(known, update)
    return list(by_message.values())


def write(session: Session, updates: Sequence[MessageUpdate]) -> None:
    """Insert the messages not yet known and bring the known ones up to date.

    The same rule as `merge`, in SQL, for a row an earlier batch wrote. One statement of one
    row, executed for many: its SQL is compiled once, where a multi-row VALUES of the batch's
    length was compiled again for every length.
    """
    session.execute(
        _upsert(session.get_bind()),
        [
            {
                "message_id": u.message_id,
                "case_id": u.case_id,
                "template": u.template,
                "channel": u.channel,
                "sent_at": u.sent_at,
                "status": u.status,
                "status_at": u.status_at,
            }
            for u in updates
        ],
    )


def _upsert(bind: Engine | Connection) -> Any:
    insert = upsert_insert(bind)(CaseMessage)
    new = insert.excluded
    moves_on = _stage(new.status) > _stage(CaseMessage.status)
    return insert.on_conflict_do_update(
        index_elements=[CaseMessage.message_id],
        set_={
            "sent_at": func.coalesce(CaseMessage.sent_at, new.sent_at),
            "status": case((moves_on, new.status), else_=CaseMessage.status),
            "status_at": case((moves_on, new.status_at), else_=CaseMessage.status_at),
            "channel": case((new.channel == DIGEST, DIGEST), else_=CaseMessage.channel),
        },
    )


def _stage(status: Any) -> Any:
    """`_STAGE` in SQL: the final statuses share the last stage."""
    last = max(_STAGE.values())
    return case(
        *((status == name, stage) for name, stage in _STAGE.items() if stage < last), else_=last
    )


_PENDING = "intake.message_updates"


def keep(work: Work, update: MessageUpdate) -> None:
    """Gather `update` with the rest of the transaction's, all written just before it commits."""
    pending: list[MessageUpdate] | None = work.session.info.get(_PENDING)
    if pending is None:
        pending = work.session.info[_PENDING] = []
        session = work.session

        def flush_updates() -> None:
            gathered = session.info.pop(_PENDING, [])
            if gathered:
                write(session, fold(gathered))

        work.before_commit(flush_updates)
    pending.append(update)


def of_case(session: Session, case_id: uuid.UUID) -> list[CaseMessage]:
    """The case's messages in the order they went out (a message refused at once has no send
    time: it is placed at its failure)."""
    return list(
        session.scalars(
            select(CaseMessage)
            .where(CaseMessage.case_id == case_id)
            .order_by(func.coalesce(CaseMessage.sent_at, CaseMessage.status_at))
        )
    )
