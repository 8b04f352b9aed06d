"""Versioned event payloads, registered by (type, version)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from services.kernel.clock import utcnow
from services.kernel.events.envelope import Envelope, new_trace_id

SCHEMA_DIR = Path(__file__).with_name("schemas")


class Payload(BaseModel):
    """Frozen and strict about unknown fields: a contract, not a bag of keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Payload):
    """Base of every event payload; registered with `@event(type, version)`."""

    event_type: ClassVar[str]
    event_version: ClassVar[int]

    def envelope(
        self, *, producer: str, case_id: uuid.UUID | None = None, trace_id: str | None = None
    ) -> Envelope:
        return Envelope(
            id=uuid.uuid4(),
            type=self.event_type,
            version=self.event_version,
            occurred_at=utcnow(),
            producer=producer,
            case_id=case_id,
            trace_id=trace_id or new_trace_id(),
            data=self.model_dump(mode="json"),
        )


class UnknownEvent(LookupError):
    """No payload model is registered for this (type, version)."""


_REGISTRY: dict[tuple[str, int], type[Event]] = {}
# An older version's payload turned into the next version's, so handlers see only the newest.
_UPCASTERS: dict[type[Event], Callable[[Any], Event]] = {}
E = TypeVar("E", bound=type[Event])
Old = TypeVar("Old", bound=Event)


def event(event_type: str, version: int) -> Callable[[E], E]:
    """Register a payload model under its type and version."""

    def register(cls: E) -> E:
        key = (event_type, version)
        if key in _REGISTRY:
            raise ValueError(f"event {event_type} v{version} is registered twice")
        cls.event_type = event_type
        cls.event_version = version
        _REGISTRY[key] = cls
        return cls

    return register


def upcaster(
    old: type[Old],
) -> Callable[[Callable[[Old], Event]], Callable[[Old], Event]]:
    """Register how `old`'s payload becomes the next version's.

    Producers publish only the newest version, but queues and the outbox (for replay) still hold
    older ones: a handler subscribed to the newest version also receives, upcast, every older one.
    """

    def register(convert: Callable[[Old], Event]) -> Callable[[Old], Event]:
        if old in _UPCASTERS:
            raise ValueError(f"{old.event_type} v{old.event_version} has an upcaster already")
        _UPCASTERS[old] = convert
        return convert

    return register


def upcast(payload: Event) -> Event:
    """The payload as the newest version of its event."""
    while (convert := _UPCASTERS.get(type(payload))) is not None:
        payload = convert(payload)
    return payload


def older_versions(cls: type[Event]) -> list[type[Event]]:
    """The registered versions that upcast, directly or in steps, to `cls`."""
    return [
        old
        for old in _REGISTRY.values()
        if old is not cls and old.event_type == cls.event_type and _upcasts_to(old, cls)
    ]


def _upcasts_to(old: type[Event], new: type[Event]) -> bool:
    return old.event_version < new.event_version and old in _UPCASTERS


def lookup(event_type: str, version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"no event {event_type} v{version} is known") from None


def registered() -> Iterator[type[Event]]:
    yield from sorted(_REGISTRY.values(), key=lambda c: (c.event_type, c.event_version))


def decode(envelope: Envelope) -> Event:
    """The typed payload of an envelope, upcast to the newest version of its event.

    Raises UnknownEvent or pydantic.ValidationError.
    """
    return upcast(lookup(envelope.type, envelope.version).model_validate(envelope.data))


def schema_file(cls: type[Event]) -> Path:
    return SCHEMA_DIR / f"{cls.event_type}.v{cls.event_version}.json"


def schema_of(cls: type[Event]) -> dict[str, Any]:
    return cls.model_json_schema()


def schema_text(cls: type[Event]) -> str:
    return json.dumps(schema_of(cls), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
