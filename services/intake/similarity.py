"""How alike two cases are: their descriptions and their places. Pure functions, no I/O."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

# Characters that join words rather than carry the matter (particles, pronouns, measure words).
_FUNCTION_CHARACTERS = "的了是在很也都就和与我你他她们这那有个一把被给"
# What nearly every request says, whatever it is about: shared, it says nothing.
_BOILERPLATE = (
    "为什么 希望 政府 能够 尽快 解决 问题 反映 请求 要求 相关 部门 处理 举报 投诉 领导 已经",
    "没有 现在 情况 严重 影响 谢谢 麻烦 帮忙 一直 还是 不是 什么 怎么 可以 因为 所以 但是",
    "如果 非常 目前 请 太",
)
_NOISE = re.compile("|".join([*" ".join(_BOILERPLATE).split(" "), f"[{_FUNCTION_CHARACTERS}]"]))
# Mean Earth radius (IUGG); the haversine error it brings is far below a street's width.
EARTH_RADIUS_M = 6_371_008.8


def normalise_text(text: str) -> str:
    """Letters and digits only, full-width folded and lower-cased: "路灯，坏了！" -> "路灯坏了"."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def bigrams(text: str) -> Counter[str]:
    """Character bigrams of the normalised text, boilerplate and function characters left out.

    Chinese has no spaces to split words on, and most of its words are two characters long, so
    overlapping character pairs catch the shared words of two descriptions without a dictionary.
    The text is cut where boilerplate was, so no pair straddles it: "希望政府解决停车难" and
    "希望政府解决饮水难" share nothing.
    """
    counts: Counter[str] = Counter()
    for segment in _NOISE.split(normalise_text(text)):
        counts.update(segment[i : i + 2] for i in range(len(segment) - 1))
    return counts


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' bigram counts: 1.0 the same words, 0.0 none shared."""
    (left, left_norm), (right, right_norm) = _vector(a), _vector(b)
    if not left or not right:
        return 0.0
    dot = sum(count * right[gram] for gram, count in left.items())
    return dot / (left_norm * right_norm)


@functools.lru_cache(maxsize=4096)
def _vector(text: str) -> tuple[Counter[str], float]:
    # A description is compared with many others, sweep after sweep: its bigrams once will do.
    counts = bigrams(text)
    return counts, math.sqrt(sum(c * c for c in counts.values()))


def normalise_address(address: str) -> str:
    """An address with spacing, punctuation and width differences removed."""
    return normalise_text(address)


@dataclass(frozen=True)
class Place:
    address: str | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        return (self.lat, self.lon) if self.lat is not None and self.lon is not None else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def bounding_box(lat: float, lon: float, within_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box holding every point `within_m` metres of (lat, lon).

    A little larger than the circle, so that a database can narrow the candidates by plain
    comparisons and `distance_m` decides; a degree of longitude shrinks towards the poles.
    """
    dlat = math.degrees(within_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# The side of a cell of the grid `grid_cell` lays over the map, in degrees (about 220 m of
# latitude). A database finds the places near a point by their cells, with an index and a
# statement whose shape never changes, where a box per point made a new statement every time.
CELL_DEGREES = 0.002


def grid_cell(lat: float, lon: float) -> str:
    """The grid cell holding (lat, lon), e.g. `14999:60303`."""
    return f"{math.floor(lat / CELL_DEGREES)}:{math.floor(lon / CELL_DEGREES)}"


def cells_within(lat: float, lon: float, within_m: float) -> list[str]:
    """Every grid cell holding a point `within_m` metres of (lat, lon) (and a few more)."""
    south, north, west, east = bounding_box(lat, lon, within_m)
    rows = range(math.floor(south / CELL_DEGREES), math.floor(north / CELL_DEGREES) + 1)
    columns = range(math.floor(west / CELL_DEGREES), math.floor(east / CELL_DEGREES) + 1)
    return [f"{row}:{column}" for row in rows for column in columns]


def same_place(a: Place, b: Place, within_m: float) -> bool:
    """The same address once normalised, or map points at most `within_m` metres apart."""
    here, there = a.point, b.point
    if here is not None and there is not None and distance_m(*here, *there) <= within_m:
        return True
    if a.address and b.address:
        left, right = normalise_address(a.address), normalise_address(b.address)
        return bool(left) and left == right
    return False
