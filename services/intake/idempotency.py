"""The same submission twice gives the same case: a key per channel, the first answer kept sealed.

The web API takes an `Idempotency-Key` header; email will use the Message-ID and the hotline the
call id. The key's row is inserted in the submission's own transaction, so of two concurrent
requests with one key the second waits for the first to commit and then answers as it did.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, timedelta

from sqlalchemy import delete, update

from services.intake.models import IdempotencyKey
from services.intake.submissions import Receipt, Submission, accept, next_tracking_no, record
from services.kernel.clock import utcnow
from services.kernel.db import upsert_insert
from services.kernel.language import InvalidValue
from services.kernel.sealing import keyed_digest, sealer_for
from services.kernel.work import Work

# Repeats within this window get the first answer; the hourly purge may keep a key a little longer.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255
_SEALING_PURPOSE = "idempotent-receipt"
_FINGERPRINT_PURPOSE = "idempotent-request"


class IdempotencyKeyReused(InvalidValue):
    """The key already stands for a different submission."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different submission",
            "这个 Idempotency-Key 已用于另一项不同的提交",
        )


def fingerprint(submission: Submission, secret_key: str) -> str:
    """What makes two submissions the same: every field, in a canonical form, keyed.

    Keyed, because the form holds the contact: a plain hash of it could be matched against
    guessed phone numbers, a tip-off reporter's among them.
    """
    fields = {
        "channel": submission.channel,
        "kind": submission.kind,
        "description": submission.description,
        "category": submission.category,
        "location": submission.location.model_dump() if submission.location else None,
        "contact": submission.contact.model_dump(),
        "reference": submission.reference,
        "first_contact": submission.first_contact.model_dump()
        if submission.first_contact
        else None,
        "urgency": submission.urgency,
        "scope_level": submission.scope_level,
        "answered_directly": submission.answered_directly,
        "files": [hashlib.sha256(f.data).hexdigest() for f in submission.files],
    }
    return request_fingerprint(secret_key, json.dumps(fields, sort_keys=True, ensure_ascii=False))


def request_fingerprint(secret_key: str, canonical: str) -> str:
    """A request's fingerprint from its canonical text, keyed: the text holds contacts."""
    return keyed_digest(secret_key, _FINGERPRINT_PURPOSE, canonical)


def accept_once(
    work: Work, submission: Submission, secret_key: str, key: str | None
) -> tuple[Receipt, bool]:
    """Accept the submission, or give the earlier answer for its key; True when repeated."""
    if key is None:
        return accept(work, submission, secret_key), False
    # Before the claim (see next_tracking_no); a repeat leaves the number unused, a harmless gap.
    tracking_no = next_tracking_no(work)
    request_hash = fingerprint(submission, secret_key)
    earlier = claim(work, submission.channel, key, request_hash, secret_key)
    if earlier is not None:
        return _receipt_from_json(earlier), True
    receipt = record(work, submission, secret_key, tracking_no)
    fulfil(work, submission.channel, key, _receipt_to_json(receipt), secret_key, receipt.case_id)
    return receipt, False


def claim(work: Work, channel: str, key: str, request_hash: str, secret_key: str) -> str | None:
    """Take `key` for this request; or, if it was taken before, the answer then given.

    The answer comes back as the JSON `fulfil` stored. A key taken for a different request
    (another `request_hash`) is refused with IdempotencyKeyReused. Of two concurrent requests
    with one key, the second waits here until the first commits.
    """
    session = work.session
    claimed = session.execute(
        upsert_insert(session.get_bind())(IdempotencyKey)
        .values(channel=channel, key=key, request_hash=request_hash, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    if claimed is not None:
        return None
    earlier = session.get_one(IdempotencyKey, (channel, key))
    if earlier.request_hash != request_hash or earlier.sealed_receipt is None:
        raise IdempotencyKeyReused()
    return sealer_for(secret_key, _SEALING_PURPOSE).open(earlier.sealed_receipt)


def fulfil(
    work: Work,
    channel: str,
    key: str,
    answer: str,
    secret_key: str,
    case_id: uuid.UUID | None = None,
) -> None:
    """Keep the answer to the request that claimed `key`, sealed: it holds access codes."""
    work.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.channel == channel, IdempotencyKey.key == key)
        .values(
            case_id=case_id, sealed_receipt=sealer_for(secret_key, _SEALING_PURPOSE).seal(answer)
        )
    )


def purge_expired(work: Work) -> None:
    work.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - IDEMPOTENCY_WINDOW)
    )


def _receipt_to_json(receipt: Receipt) -> str:
    return json.dumps(
        {
            "case_id": str(receipt.case_id),
            "tracking_no": receipt.tracking_no,
            "access_code": receipt.access_code,
            "status": receipt.status,
            "promised_date": receipt.promised_date.isoformat(),
        }
    )


def _receipt_from_json(text: str) -> Receipt:
    data = json.loads(text)
    return Receipt(
        case_id=uuid.UUID(data["case_id"]),
        tracking_no=data["tracking_no"],
        access_code=data["access_code"],
        status=data["status"],
        promised_date=date.fromisoformat(data["promised_date"]),
    )
