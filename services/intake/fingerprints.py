"""Keyed fingerprints of a contact: the same phone or email gives the same value, never the
contact itself. Duplicate detection and the per-phone rate limit compare these, so neither keeps
a number in the clear, and a tip-off's sealed reporter is matched without being opened."""

from __future__ import annotations

import unicodedata

from services.intake import domain
from services.kernel.language import InvalidValue
from services.kernel.sealing import keyed_digest

# Purpose of the key the fingerprints are made with.
CONTACT_FINGERPRINT = "contact-fingerprint"


def normal_phone(raw: str) -> str:
    """A mobile number as intake keeps it, or for anything else just its digits."""
    try:
        return domain.normalise_mobile(raw)
    except InvalidValue:
        return "".join(c for c in unicodedata.normalize("NFKC", raw) if c.isdigit())


def phone_fingerprint(phone: str | None, secret_key: str) -> str | None:
    """The normalised phone number's fingerprint; None without a number."""
    normal = normal_phone(phone) if phone else ""
    return keyed_digest(secret_key, CONTACT_FINGERPRINT, f"phone:{normal}") if normal else None


def email_fingerprint(email: str | None, secret_key: str) -> str | None:
    """The email address's fingerprint, whatever its letters' case; None without an address."""
    normal = unicodedata.normalize("NFKC", email).strip().lower() if email else ""
    return keyed_digest(secret_key, CONTACT_FINGERPRINT, f"email:{normal}") if normal else None
