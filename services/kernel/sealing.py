"""Sealing values at rest: authenticated encryption under a key derived from the secret key."""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Unsealable(Exception):
    """The value was sealed under another key, or has been tampered with."""


class Sealer:
    """Seals and opens values for one purpose; each purpose has a key of its own."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        # A derived key per purpose: a value sealed for one use cannot be opened as another.
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"minqing:{purpose}".encode()
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

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
