"""Sealing values at rest: authenticated encryption under a key derived from the secret key."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Sealing purpose of a tip-off reporter's contact, as the `case.submitted` contract names it:
# intake seals it, notify opens it to send the reporter's messages.
REPORTER_CONTACT = "reporter-contact"


class Unsealable(Exception):
    """The value was sealed under another key, or has been tampered with."""


class Sealer:
    """Seals and opens values for one purpose; each purpose has a key of its own."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        # A derived key per purpose: a value sealed for one use cannot be opened as another.
        self._fernet = Fernet(base64.urlsafe_b64encode(derived_key(secret_key, purpose)))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken as exc:
            raise Unsealable("cannot open a sealed value: wrong key or tampered") from exc


@functools.lru_cache(maxsize=16)
def sealer_for(secret_key: str, purpose: str) -> Sealer:
    """The purpose's sealer, made once per process: deriving its key is not per-request work."""
    return Sealer(secret_key, purpose)


@functools.lru_cache(maxsize=16)
def derived_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key of its own for `purpose`, derived from the secret key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"minqing:{purpose}".encode()
    ).derive(secret_key.encode())


def keyed_digest(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the purpose's key, in hex: comparable, never reversible.

    A phone number has too few possibilities for a plain hash to hide it; without the secret
    key nobody can try them all against this one.
    """
    return hmac.new(derived_key(secret_key, purpose), value.encode(), hashlib.sha256).hexdigest()
