"""What a bulletin says: one period's figures and the breakdowns its text names.

Everything here is plain data, so a bulletin stored today reads back the same next year and
every format (text, page, PDF, spreadsheets) is drawn from the same content.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

# The order a bulletin names channels in, so that periods read alike whatever their mix.
CHANNEL_ORDER = ("hotline", "email", "web", "open311", "visit", "sms")
# How many categories and departments a bulletin names.
TOP = 5

Number = int | float | None


class Share(BaseModel):
    """A count of the period's cases with one value: a channel, a category."""

    model_config = ConfigDict(frozen=True)

    key: str | None
    count: int


class DepartmentShare(BaseModel):
    """A department's part of the period: cases given to it, and cases it resolved."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str | None
    dispatched: int
    resolved: int


class Bulletin(BaseModel):
    """A period's bulletin, as stored and as every format draws it."""

    model_config = ConfigDict(frozen=True)

    first: date
    last: date
    # Kept by name, not as `kpis.Figures`: a bulletin stored before a KPI was added must still
    # read back, and every export lists whichever figures it holds.
    figures: dict[str, Number]
    # Of the cases received in the period, those resolved by its end ("25 of 56 solved").
    received_resolved: int
    by_channel: list[Share]
    top_categories: list[Share]
    top_departments: list[DepartmentShare]

    def count(self, name: str) -> int:
        value = self.figures.get(name)
        return int(value) if value is not None else 0

    def measure(self, name: str) -> float | None:
        value = self.figures.get(name)
        return None if value is None else float(value)


def channel_rank(key: str | None) -> tuple[int, str]:
    """Where a channel comes in the bulletin: the usual order, then any other by name."""
    if key in CHANNEL_ORDER:
        return (CHANNEL_ORDER.index(key), "")
    return (len(CHANNEL_ORDER), key or "")


def in_channel_order(shares: list[Share]) -> list[Share]:
    return sorted((s for s in shares if s.count > 0), key=lambda s: channel_rank(s.key))


def top_shares(shares: list[Share], top: int = TOP) -> list[Share]:
    """The most frequent named values, ties by name so the same data gives the same text."""
    named = [s for s in shares if s.key and s.count > 0]
    return sorted(named, key=lambda s: (-s.count, s.key or ""))[:top]


def top_departments(departments: list[DepartmentShare], top: int = TOP) -> list[DepartmentShare]:
    """The departments given the most cases, then those that resolved the most."""
    active = [d for d in departments if d.dispatched or d.resolved]
    return sorted(active, key=lambda d: (-d.dispatched, -d.resolved, d.code))[:top]
