"""Open311 clients and their API keys: shown once, kept only as a hash, revoked by name."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.orm import Session

from services.intake.models import Open311Client
from services.kernel.caching import TtlCache
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.db import Database

# Lets a secret scanner, or a person, recognise a leaked key for what it is.
KEY_PREFIX = "mq311_"
MAX_NAME_LENGTH = 100
# A revoked key is refused by every intake process at most this many seconds later. Keys that
# were refused are not remembered, so a newly issued key works at once.
REVOCATION_DELAY = 5.0


class ClientError(ValueError):
    """The command cannot be carried out as asked; the message says why."""


def key_hash(key: str) -> str:
    # The key is 256 random bits, so a plain hash is as good as a slow one and lookups stay fast.
    return hashlib.sha256(key.encode()).hexdigest()


# Built once: it runs for every submission.
_ACTIVE_CLIENT = select(Open311Client.id).where(
    Open311Client.key_hash == bindparam("key_hash"), Open311Client.revoked_at.is_(None)
)


def client_for(connection: Session | Connection, key: str | None) -> int | None:
    """The id of the active client a key belongs to; None if missing, unknown or revoked."""
    if not key:
        return None
    return connection.scalar(_ACTIVE_CLIENT, {"key_hash": key_hash(key)})


_active: TtlCache[tuple[str, str], int | None] = TtlCache(
    REVOCATION_DELAY, keep=lambda client_id: client_id is not None
)


def active_client(engine: Engine, key: str | None) -> int | None:
    """`client_for`, answered from memory for a key accepted less than REVOCATION_DELAY ago.

    A client sends every request with its key: looking it up each time cost each submission a
    connection and two round trips more than a web submission.
    """
    if not key:
        return None

    def look_up() -> int | None:
        with engine.connect() as connection:
            return client_for(connection, key)

    return _active.get((str(engine.url), key_hash(key)), look_up)


def add_client(session: Session, name: str) -> str:
    """Issue a key to a new client, or a fresh one to a revoked client; returns the key."""
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise ClientError(f"a client's name has 1 to {MAX_NAME_LENGTH} characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    existing = session.scalars(select(Open311Client).where(Open311Client.name == name)).first()
    if existing is None:
        session.add(Open311Client(name=name, key_hash=key_hash(key), created_at=utcnow()))
    elif existing.revoked_at is None:
        raise ClientError(
            f"an Open311 client named {name!r} already has a key; "
            "revoke it first to issue a new one"
        )
    else:
        existing.key_hash, existing.created_at, existing.revoked_at = key_hash(key), utcnow(), None
    return key


def revoke_client(session: Session, name: str) -> None:
    """From now on the client's key is refused (403)."""
    client = session.scalars(
        select(Open311Client).where(Open311Client.name == name.strip())
    ).first()
    if client is None:
        raise ClientError(f"no Open311 client named {name!r}")
    if client.revoked_at is not None:
        raise ClientError(f"the Open311 client {name!r} was already revoked")
    client.revoked_at = utcnow()


def manage(settings: Settings, command: str, name: str) -> str | None:
    """`minqing open311 add-client|revoke-client NAME`: the new key for add-client, else None."""
    database = Database(settings.database_url("intake"), pool_size=1, max_overflow=0)
    try:
        with database.unit_of_work() as uow:
            if command == "add-client":
                return add_client(uow.session, name)
            revoke_client(uow.session, name)
            return None
    finally:
        database.dispose()
