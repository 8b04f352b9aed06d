"""When a recorded SMS may go: the policy's rules applied to the messages table.

A new message is queued for sending, held for the quiet hours, capped (merged into the next
digest) or suppressed for an opt-out. A periodic job releases the held ones when their time
comes and sends each number's capped ones as one digest.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.kernel.events.contracts import Language, MessageMerged
from services.kernel.work import Work, WorkOpener
from services.kernel.workdays import LOCAL_TZ
from services.notify import policy
from services.notify.models import CaseContact, Message, OptOut
from services.notify.templates import case_list, render, signature_for

# Messages looked at per release: what one transaction comfortably locks and updates.
RELEASE_BATCH = 1000
# Tracking numbers a digest names before "…"; the digest must stay short.
DIGEST_NAMES = 3
SCHEDULED = Counter(
    "minqing_sms_scheduled_total",
    "New SMS by what the citizen's limits made of them: queued, held, capped, suppressed",
    ["status"],
)
_DIGESTS = uuid.UUID("5b0c8f3e-2f7e-4a55-9a57-6f1c2c0e8d41")


def schedule(work: Work, message: Message) -> bool:
    """Add the new SMS with the status the policy gives it; True if it may be sent now."""
    settings = work.settings
    session = work.session
    # Without flushing: a batch's messages are inserted together at commit, and counted below.
    with session.no_autoflush:
        opted_out = _opted_out(session, message.recipient)
        decided = policy.plan(
            message.template,
            now=message.created_at,
            quiet=settings.quiet_hours,
            cap=settings.sms_daily_cap,
            tz=LOCAL_TZ,
            opted_out=opted_out,
            counted_on=lambda day: _counts(session, message.recipient, day)[0],
        )
        message.status = decided.status
        message.not_before = decided.not_before
        message.counted_on = decided.counted_on
        if decided.counted_on is not None:
            _counts(session, message.recipient, decided.counted_on)[0] += 1
    session.add(message)
    work.after_commit(SCHEDULED.labels(decided.status).inc)
    return decided.status == policy.QUEUED


# Where a transaction keeps each number's count for a day, read once and kept up to date.
_COUNTS = "notify.counted"
# Where a consumer batch's preload leaves whether each of its numbers opted out.
_OPTED_OUT = "notify.opted_out"


def prefetch_limits(session: Session, recipients: Iterable[str], day: date) -> None:
    """Whether each number opted out, and its count for `day`, for a whole batch in two queries,
    where `schedule` alone asks twice per message."""
    wanted = set(recipients)
    if not wanted:
        return
    opted = set(session.scalars(select(OptOut.recipient).where(OptOut.recipient.in_(wanted))))
    known: dict[str, bool] = session.info.setdefault(_OPTED_OUT, {})
    known.update((recipient, recipient in opted) for recipient in wanted)
    counted: dict[str, int] = dict(
        session.execute(
            select(Message.recipient, func.count())
            .where(Message.recipient.in_(wanted), Message.counted_on == day)
            .group_by(Message.recipient)
        )
        .tuples()
        .all()
    )
    counts: dict[tuple[str, date], list[int]] = session.info.setdefault(_COUNTS, {})
    for recipient in wanted:
        counts.setdefault((recipient, day), [counted.get(recipient, 0)])


def _opted_out(session: Session, recipient: str) -> bool:
    known: dict[str, bool] = session.info.get(_OPTED_OUT, {})
    if recipient in known:
        return known[recipient]
    return session.get(OptOut, recipient) is not None


def _counts(session: Session, recipient: str, day: date) -> list[int]:
    """The messages that go (or went) to `recipient` on the local `day`, as a mutable cell."""
    known: dict[tuple[str, date], list[int]] = session.info.setdefault(_COUNTS, {})
    key = (recipient, day)
    if key not in known:
        known[key] = [
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.recipient == recipient, Message.counted_on == day)
            )
            or 0
        ]
    return known[key]


def release_due(open_work: WorkOpener) -> list[str]:
    """Queue the held messages whose time has come and capped ones as digests; the ids to send.

    A crash before the ids are sent leaves them queued, for the stale-message sweep.
    """
    with open_work() as work:
        now = utcnow()
        due = work.session.scalars(
            select(Message)
            .where(
                Message.status.in_((policy.HELD, policy.CAPPED)),
                Message.not_before <= now,
            )
            .order_by(Message.created_at)
            .limit(RELEASE_BATCH)
            # Several notify processes run this job: each message is released by one of them.
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return []
        opted_out = set(
            work.session.scalars(
                select(OptOut.recipient).where(OptOut.recipient.in_({m.recipient for m in due}))
            )
        )
        capped: dict[str, list[Message]] = defaultdict(list)
        to_send: list[str] = []
        for message in due:
            # The number may have opted out while its message waited.
            if message.recipient in opted_out and not policy.is_essential(message.template):
                message.status = policy.SUPPRESSED
                message.counted_on = None
            elif message.status == policy.HELD:
                message.status = policy.QUEUED
                to_send.append(str(message.id))
            else:
                capped[message.recipient].append(message)
        to_send.extend(str(_digest(work, merged).id) for merged in capped.values())
        return to_send


def _digest(work: Work, merged: Sequence[Message]) -> Message:
    """One message in place of `merged` (all to one number), naming the cases they were about."""
    now = utcnow()
    tracking_nos = sorted({m.tracking_no for m in merged if m.tracking_no is not None})
    language = _digest_language(work.session, merged)
    rendered = render(
        policy.DIGEST,
        signature_for(work.settings, language),
        language,
        count=str(len(merged)),
        cases=case_list(tracking_nos, DIGEST_NAMES, language) or "-",
    )
    first = merged[0]
    digest = Message(
        id=uuid.uuid4(),
        # The same capped messages always make the same digest, so it is recorded once.
        event_id=uuid.uuid5(_DIGESTS, ",".join(sorted(str(m.id) for m in merged))),
        recipient=first.recipient,
        sealed_recipient=first.sealed_recipient,
        template=policy.DIGEST,
        channel="sms",
        case_id=None,
        tracking_no=None,
        text=rendered.text,
        segments=rendered.segments,
        status=policy.QUEUED,
        created_at=now,
        counted_on=policy.local_day(now, LOCAL_TZ),
    )
    work.session.add(digest)
    for message in merged:
        message.status = policy.MERGED
        message.digest_id = digest.id
        work.publish(
            MessageMerged(
                message_id=message.id,
                case_id=message.case_id,
                tracking_no=message.tracking_no,
                template=message.template,
                digest_id=digest.id,
                merged_at=now,
            ),
            case_id=message.case_id,
        )
    return digest


def carried_by(session: Session, digest: Message) -> list[Message]:
    """The messages a digest carries, whose cases hear how it went; none for any other message."""
    if digest.template != policy.DIGEST:
        return []
    return list(session.scalars(select(Message).where(Message.digest_id == digest.id)))


def _digest_language(session: Session, merged: Sequence[Message]) -> Language:
    """English only if the citizen chose English for every case the merged messages are about.

    A number may have cases in both languages (a relative may have submitted one for them).
    Whoever chose Chinese even once has shown they read it, while English sent to someone who
    chose Chinese may not be read at all; and the rule does not depend on the messages' order.
    """
    chosen = set(
        session.scalars(
            select(CaseContact.language)
            .where(CaseContact.case_id.in_({m.case_id for m in merged if m.case_id is not None}))
            .distinct()
        )
    )
    return "en" if chosen == {"en"} else "zh"
