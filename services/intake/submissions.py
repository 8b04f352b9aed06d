"""Accepting a case, whatever the channel: tracking number, access code, record, event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, insert

from services.intake import attachments, domain
from services.intake.attachments import CheckedFile
from services.intake.fingerprints import email_fingerprint, phone_fingerprint
from services.intake.models import Case, TimelineEntry
from services.intake.similarity import grid_cell, normalise_address
from services.intake.tracking import tracking_numbers
from services.kernel.clock import utcnow
from services.kernel.events.contracts import (
    CaseSubmitted,
    Channel,
    Contact,
    FirstContact,
    Kind,
    Language,
    Location,
    ScopeLevel,
    Urgency,
)
from services.kernel.sealing import REPORTER_CONTACT, sealer_for
from services.kernel.work import Work
from services.kernel.workdays import local_date, promised_date

RECEIVED = "received"
ANSWERED = "answered"
# Built once: a statement made per request would be hashed for the compiled cache every time.
_INSERT_CASE = insert(cast(Table, Case.__table__))
_INSERT_TIMELINE = insert(cast(Table, TimelineEntry.__table__))


@dataclass(frozen=True)
class Submission:
    """A case as a channel hands it over, already validated."""

    channel: Channel
    kind: Kind
    description: str
    category: str | None
    location: Location | None
    contact: Contact
    reference: str | None = None
    first_contact: FirstContact | None = None
    urgency: Urgency = "normal"
    scope_level: ScopeLevel | None = None
    language: Language = "zh"
    # A consultation the operator answered on the call: recorded, closed, never dispatched.
    answered_directly: bool = False
    files: Sequence[CheckedFile] = ()

    @property
    def sealed(self) -> bool:
        """A tip-off's reporter is known only through a sealed contact."""
        return self.kind == "tip-off"


@dataclass(frozen=True)
class Receipt:
    case_id: uuid.UUID
    tracking_no: str
    access_code: str
    status: str
    promised_date: date


def accept(work: Work, submission: Submission, secret_key: str) -> Receipt:
    """Record the case and its `case.submitted` event in the caller's transaction."""
    return record(work, submission, secret_key, next_tracking_no(work))


def next_tracking_no(work: Work) -> str:
    """The next tracking number; take it before anything else touches the transaction.

    A new block of numbers is reserved in a transaction of its own. On SQLite the caller's
    transaction holds the database's one write lock from its first statement, so reserving after
    that would wait for a lock its own request holds.
    """
    day = local_date(utcnow())
    return domain.format_tracking_no(
        day, tracking_numbers(work.session.get_bind().engine).take(day)
    )


def record(work: Work, submission: Submission, secret_key: str, tracking_no: str) -> Receipt:
    """Record the case under `tracking_no` and its `case.submitted` event."""
    now = utcnow()
    access_code = domain.new_access_code()
    promise = promised_date(submission.kind, now)
    case_id = uuid.uuid4()
    status = ANSWERED if submission.answered_directly else RECEIVED
    contact, sealed_contact = Contact(), None
    if submission.sealed:
        sealed_contact = seal_contact(submission.contact, secret_key)
    else:
        contact = submission.contact
    first = submission.first_contact
    address = submission.location.address if submission.location else None
    lat, lon = (
        (submission.location.lat, submission.location.lon) if submission.location else (None, None)
    )
    # Plain INSERTs rather than new ORM objects: this runs once per submission, on the request's
    # thread, and the ORM's bookkeeping for two new rows costs more than the inserts themselves.
    work.session.execute(
        _INSERT_CASE,
        {
            "id": case_id,
            "tracking_no": tracking_no,
            "access_code_hash": domain.hash_access_code(access_code, secret_key),
            "channel": submission.channel,
            "kind": submission.kind,
            "category": submission.category,
            "description": submission.description,
            "address": address,
            "address_key": normalise_address(address) if address else None,
            "lat": lat,
            "lon": lon,
            "grid_cell": grid_cell(lat, lon) if lat is not None and lon is not None else None,
            "contact_name": contact.name,
            "contact_phone": contact.phone,
            "contact_email": contact.email,
            "sealed_contact": sealed_contact,
            "reference": submission.reference,
            "first_contact_id": first.staff_id if first else None,
            "first_contact_name": first.name if first else None,
            "first_contact_unit": first.unit if first else None,
            "urgency": submission.urgency,
            "scope_level": submission.scope_level,
            "language": submission.language,
            "answered_directly": submission.answered_directly,
            "status": status,
            "promised_date": promise,
            "submitted_at": now,
            "updated_at": now,
            # From the contact as given, sealed or not: repeats are found by these alone.
            "duplicates_checked": False,
            "phone_fingerprint": phone_fingerprint(submission.contact.phone, secret_key),
            "email_fingerprint": email_fingerprint(submission.contact.email, secret_key),
        },
    )
    work.session.execute(
        _INSERT_TIMELINE,
        [{"case_id": case_id, "occurred_at": now, "status": RECEIVED}]
        + (
            [{"case_id": case_id, "occurred_at": now, "status": ANSWERED}]
            if status == ANSWERED
            else []
        ),
    )
    attachments.store(work, case_id, submission.files, "submission")
    work.publish(
        CaseSubmitted(
            case_id=case_id,
            tracking_no=tracking_no,
            access_code=access_code,
            channel=submission.channel,
            kind=submission.kind,
            category=submission.category,
            description=submission.description,
            location=submission.location,
            contact=contact,
            sealed_contact=sealed_contact,
            reference=submission.reference,
            first_contact=first,
            urgency=submission.urgency,
            scope_level=submission.scope_level,
            language=submission.language,
            answered_directly=submission.answered_directly,
            attachments=len(submission.files),
            submitted_at=now,
            promised_date=promise,
        ),
        case_id=case_id,
    )
    return Receipt(case_id, tracking_no, access_code, status, promise)


def seal_contact(contact: Contact, secret_key: str) -> str:
    return sealer_for(secret_key, REPORTER_CONTACT).seal(contact.model_dump_json())


def open_contact(sealed: str, secret_key: str) -> Contact:
    """A tip-off reporter's contact; only the role that handles tip-offs may ask for it."""
    return Contact.model_validate_json(sealer_for(secret_key, REPORTER_CONTACT).open(sealed))
