"""Accepting a case, whatever the channel: tracking number, access code, record, event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, Integer, cast

from services.intake import domain
from services.intake.models import Case, TimelineEntry, TrackingSequence
from services.kernel.clock import utcnow
from services.kernel.db import upsert_insert
from services.kernel.events.contracts import CaseSubmitted, Channel, Contact, Kind, Location
from services.kernel.work import Work
from services.kernel.workdays import local_date, promised_date


@dataclass(frozen=True)
class Submission:
    """A case as a channel hands it over, already validated."""

    channel: Channel
    kind: Kind
    description: str
    category: str | None
    location: Location | None
    contact: Contact


@dataclass(frozen=True)
class Receipt:
    case_id: uuid.UUID
    tracking_no: str
    access_code: str
    status: str
    promised_date: date


def accept(work: Work, submission: Submission, secret_key: str) -> Receipt:
    """Record the case and its `case.submitted` event in the caller's transaction."""
    now = utcnow()
    tracking_no = domain.format_tracking_no(
        local_date(now), _next_sequence(work.session.get_bind(), local_date(now))
    )
    access_code = domain.new_access_code()
    promise = promised_date(submission.kind, now)
    case = Case(
        id=uuid.uuid4(),
        tracking_no=tracking_no,
        access_code_hash=domain.hash_access_code(access_code, secret_key),
        channel=submission.channel,
        kind=submission.kind,
        category=submission.category,
        description=submission.description,
        address=submission.location.address if submission.location else None,
        lat=submission.location.lat if submission.location else None,
        lon=submission.location.lon if submission.location else None,
        contact_name=submission.contact.name,
        contact_phone=submission.contact.phone,
        contact_email=submission.contact.email,
        status="received",
        promised_date=promise,
        submitted_at=now,
        updated_at=now,
    )
    work.session.add(case)
    work.session.add(TimelineEntry(case_id=case.id, occurred_at=now, status="received"))
    work.publish(
        CaseSubmitted(
            case_id=case.id,
            tracking_no=tracking_no,
            access_code=access_code,
            channel=submission.channel,
            kind=submission.kind,
            category=submission.category,
            description=submission.description,
            location=submission.location,
            contact=submission.contact,
            submitted_at=now,
            promised_date=promise,
        ),
        case_id=case.id,
    )
    return Receipt(case.id, tracking_no, access_code, case.status, promise)


def _next_sequence(bind: Engine | Connection, day: date) -> int:
    """Take the day's next number in a transaction of its own.

    The day's row is locked while a number is taken; committing at once keeps that lock out of
    the case's transaction, so concurrent submissions never queue behind one another. A case
    that then fails leaves a gap in the day's numbers, which is harmless.
    """
    engine = bind.engine
    statement = (
        upsert_insert(engine)(TrackingSequence)
        .values(day=day, last=1)
        .on_conflict_do_update(
            index_elements=[TrackingSequence.day],
            set_={"last": cast(TrackingSequence.last + 1, Integer)},
        )
        .returning(TrackingSequence.last)
    )
    with engine.begin() as connection:
        return int(connection.execute(statement).scalar_one())
