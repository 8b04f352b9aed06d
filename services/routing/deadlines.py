"""A work order's clock (placeholder: the deadlines module replaces this file)."""

from __future__ import annotations

from datetime import date, datetime

from services.routing.models import WorkOrder


def on_signed_for(order: WorkOrder, now: datetime) -> None:
    """The department signed for the order: its clock starts."""


def on_pause(order: WorkOrder, now: datetime) -> None:
    """Awaiting the citizen's material: the clock stops."""


def on_resume(order: WorkOrder, now: datetime) -> None:
    """Material added: the clock goes on, the due time moved by the paused working time."""


def on_extended(order: WorkOrder, new_due: date, now: datetime) -> None:
    """An approved extension moves the due date."""
