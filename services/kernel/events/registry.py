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
E = TypeVar("E", bound=type[Event])


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


def lookup(event_type: str, version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"no event {event_type} v{version} is known") from None


def registered() -> Iterator[type[Event]]:
    yield from sorted(_REGISTRY.values(), key=lambda c: (c.event_type, c.event_version))


def decode(envelope: Envelope) -> Event:
    """The typed payload of an envelope; raises UnknownEvent or pydantic.ValidationError."""
    return lookup(envelope.type, envelope.version).model_validate(envelope.data)


def schema_file(cls: type[Event]) -> Path:
    return SCHEMA_DIR / f"{cls.event_type}.v{cls.event_version}.json"


def schema_of(cls: type[Event]) -> dict[str, Any]:
    return cls.model_json_schema()


def schema_text(cls: type[Event]) -> str:
    return json.dumps(schema_of(cls), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
