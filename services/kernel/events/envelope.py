"""The envelope every event travels in on the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Envelope(BaseModel):
    """Transport wrapper: `id` is the idempotency key, `data` the versioned payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=50)
    case_id: uuid.UUID | None = None
    trace_id: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    @property
    def routing_key(self) -> str:
        return routing_key(self.type, self.version)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, body: bytes | str) -> Envelope:
        return cls.model_validate_json(body)


def routing_key(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def new_trace_id() -> str:
    return uuid.uuid4().hex
