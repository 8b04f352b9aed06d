"""What intake keeps to recognise a contact again holds no number or address in the clear."""

from __future__ import annotations

from pathlib import Path

from services.intake.idempotency import fingerprint
from services.intake.limits import SubmissionLimits
from services.intake.submissions import Submission
from services.kernel.config import load_settings
from services.kernel.events.contracts import Contact

PHONE = "13912345670"


def test_the_per_phone_limit_counts_a_keyed_fingerprint_not_the_number(tmp_path: Path) -> None:
    settings = load_settings(
        {"MINQING_DATA_DIR": str(tmp_path), "MINQING_RATE_LIMIT_PER_PHONE": "2/hour"}
    )
    limits = SubmissionLimits(settings)
    assert limits.check(None, PHONE) is None
    assert limits.check(None, "+86 139 1234 5670") is None
    refused = limits.check(None, PHONE)
    assert refused is not None
    assert refused.field == "contact.phone"
    kept = list(limits._per_phone._buckets)  # type: ignore[union-attr]
    assert len(kept) == 1
    assert "5670" not in kept[0]


def test_the_idempotency_fingerprint_is_keyed_so_it_cannot_be_matched_to_guessed_numbers() -> None:
    tip_off = Submission("web", "tip-off", "举报违建", None, None, Contact(phone=PHONE))
    first = fingerprint(tip_off, "a" * 48)
    assert first == fingerprint(tip_off, "a" * 48)
    assert first != fingerprint(tip_off, "b" * 48)
    other = Submission("web", "tip-off", "举报违建", None, None, Contact(phone="13912345671"))
    assert fingerprint(other, "a" * 48) != first
