"""How intake folds notify's message events into one row per message, in any order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import permutations

from services.intake.messages import MessageUpdate, fold, update_from
from services.kernel.events.contracts import (
    MessageDelivered,
    MessageFailed,
    MessageMerged,
    MessageSent,
)

CASE = uuid.uuid4()
MESSAGE = uuid.uuid4()
SENT_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DELIVERED_AT = SENT_AT + timedelta(seconds=4)


def sent(template: str = "case_received", case_id: uuid.UUID | None = CASE) -> MessageSent:
    return MessageSent(
        message_id=MESSAGE,
        case_id=case_id,
        tracking_no="20261201-000001",
        template=template,
        channel="sms",
        segments=1,
    )


def delivered() -> MessageDelivered:
    return MessageDelivered(
        message_id=MESSAGE,
        case_id=CASE,
        tracking_no="20261201-000001",
        template="case_received",
        channel="sms",
        delivered_at=DELIVERED_AT,
    )


def expired() -> MessageFailed:
    return MessageFailed(
        message_id=MESSAGE,
        case_id=CASE,
        tracking_no="20261201-000001",
        template="case_received",
        channel="sms",
        status="expired",
        reason="no delivery receipt within 3600 s",
        failed_at=DELIVERED_AT,
    )


def merged() -> MessageMerged:
    return MessageMerged(
        message_id=MESSAGE,
        case_id=CASE,
        tracking_no="20261201-000001",
        template="case_received",
        digest_id=uuid.uuid4(),
        merged_at=SENT_AT - timedelta(hours=10),
    )


def test_staff_messages_and_messages_about_no_case_are_not_kept() -> None:
    assert update_from(sent("work_order_arrived"), SENT_AT) is None
    assert update_from(sent("major_alert"), SENT_AT) is None
    assert update_from(sent("digest", case_id=None), SENT_AT) is None
    assert update_from(sent(), SENT_AT) is not None


def test_a_receipt_before_its_send_still_ends_as_delivered_with_the_send_time() -> None:
    updates = [update_from(e, SENT_AT) for e in (delivered(), sent())]
    [row] = fold(u for u in updates if u is not None)
    assert (row.status, row.sent_at, row.status_at) == ("delivered", SENT_AT, DELIVERED_AT)


def test_the_outcome_is_the_same_in_every_order() -> None:
    for final in (delivered(), expired()):
        pair = [update_from(e, SENT_AT) for e in (sent(), final)]
        outcomes = {
            (row.status, row.sent_at)
            for order in permutations(u for u in pair if u is not None)
            for row in fold(order)
        }
        assert outcomes == {
            (final.status if isinstance(final, MessageFailed) else "delivered", SENT_AT)
        }


def test_one_row_per_message() -> None:
    other = MessageUpdate(uuid.uuid4(), CASE, "case_dispatched", "sms", SENT_AT, "sent", SENT_AT)
    first = update_from(sent(), SENT_AT)
    assert first is not None
    assert len(fold([first, other, first])) == 2


def test_a_message_merged_into_the_digest_shows_the_digests_fate_in_every_order() -> None:
    events = [merged(), sent(), delivered()]
    for n in (1, 2, 3):
        updates = [u for u in (update_from(e, SENT_AT) for e in events[:n]) if u is not None]
        outcomes = {
            (row.channel, row.status, row.sent_at)
            for order in permutations(updates)
            for row in fold(order)
        }
        assert (
            outcomes
            == {
                1: {("digest", "merged", None)},
                2: {("digest", "sent", SENT_AT)},
                3: {("digest", "delivered", SENT_AT)},
            }[n]
        )
