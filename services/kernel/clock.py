"""The one clock: aware UTC times everywhere; local dates come from kernel.workdays."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
