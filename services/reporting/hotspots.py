"""Hot spots: many cases of one kind about one matter in one place, as candidate systemic problems.

"Twelve complaints about drinking water in one village this month" is one problem, not twelve:
leaders should see it as such. The cases of a period are grouped by category, place and kind; a
group is a hot spot when it is large (at least `min_cases`), or when it has grown sharply since
the previous period of the same length (at least `rise_factor` times as many, and no fewer than
`min_rising_cases`, so that one case becoming two is not news). These are plain rules over plain
data; reading the cases is the caller's business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.reporting.kpis import Period

Reason = Literal["many", "rising"]
DEFAULT_MIN_CASES = 5
DEFAULT_RISE_FACTOR = 2.0
DEFAULT_MIN_RISING_CASES = 3


@dataclass(frozen=True)
class Thresholds:
    """When a group of cases is a hot spot."""

    min_cases: int = DEFAULT_MIN_CASES
    rise_factor: float = DEFAULT_RISE_FACTOR
    min_rising_cases: int = DEFAULT_MIN_RISING_CASES

    @property
    def fewest_rising(self) -> int:
        """The fewest cases a rise needs; a lower `min_cases` asked for lowers it too."""
        return min(self.min_rising_cases, self.min_cases)

    def reasons(self, cases: int, previous: int) -> tuple[Reason, ...]:
        """Why a group of `cases` (after `previous` in the period before) is a hot spot, if at
        all."""
        reasons: list[Reason] = []
        if cases >= self.min_cases:
            reasons.append("many")
        grown = cases > previous and cases >= self.rise_factor * previous
        if grown and cases >= self.fewest_rising:
            reasons.append("rising")
        return tuple(reasons)


@dataclass(frozen=True)
class PlacedCase:
    """What the rules need of a case: no more than the read model holds, so no personal data."""

    tracking_no: str
    submitted_at: datetime
    category: str | None
    kind: str | None
    township: str | None
    village: str | None


@dataclass(frozen=True)
class Cluster:
    """The matter cases are grouped by. A village is named with its township: two townships
    may each have a 王家村."""

    category: str | None
    township: str | None
    village: str | None
    kind: str | None


@dataclass(frozen=True)
class HotSpot:
    cluster: Cluster
    tracking_numbers: tuple[str, ...]
    previous_cases: int
    reasons: tuple[Reason, ...]

    @property
    def cases(self) -> int:
        return len(self.tracking_numbers)

    @property
    def rise(self) -> int:
        return self.cases - self.previous_cases


def cluster_of(case: PlacedCase) -> Cluster:
    """The group a case belongs to: its village, or its township when its address names no
    village."""
    return Cluster(case.category, case.township, case.village, case.kind)


def previous_period(period: Period) -> Period:
    """The period of the same number of days that ends the day before `period` begins."""
    days = (period.last - period.first).days + 1
    return Period(period.first - timedelta(days=days), period.first - timedelta(days=1))


def counts(cases: Iterable[PlacedCase]) -> dict[Cluster, int]:
    """How many of `cases` each cluster holds."""
    found: dict[Cluster, int] = defaultdict(int)
    for case in cases:
        found[cluster_of(case)] += 1
    return dict(found)


def hot_spots(
    current: Iterable[PlacedCase], previous: Mapping[Cluster, int], thresholds: Thresholds
) -> list[HotSpot]:
    """The hot spots among a period's cases, given each cluster's count in the period before,
    largest first; each lists its cases' tracking numbers in the order they came."""
    grouped: dict[Cluster, list[PlacedCase]] = defaultdict(list)
    for case in current:
        grouped[cluster_of(case)].append(case)
    found = []
    for cluster, cases in grouped.items():
        before = previous.get(cluster, 0)
        reasons = thresholds.reasons(len(cases), before)
        if reasons:
            ordered = sorted(cases, key=lambda c: (c.submitted_at, c.tracking_no))
            numbers = tuple(case.tracking_no for case in ordered)
            found.append(HotSpot(cluster, numbers, before, reasons))
    return ranked(found)


def ranked(spots: Sequence[HotSpot]) -> list[HotSpot]:
    """The most cases first; of equal size, the one that grew most; then a stable order."""
    return sorted(spots, key=lambda s: (-s.cases, -s.rise, _sortable(s.cluster)))


def _sortable(cluster: Cluster) -> tuple[str, ...]:
    # None sorts after every name (U+FFFF is above any character a name holds).
    parts = (cluster.category, cluster.township, cluster.village, cluster.kind)
    return tuple("\uffff" if part is None else part for part in parts)
