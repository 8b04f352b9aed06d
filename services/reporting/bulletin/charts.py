"""Bar charts as inline SVG: no script and nothing fetched, so the page prints and archives as is.

Every label passes through `escape`: categories and department names come from citizens' and
admins' words, and the markup goes into the page unescaped.
"""

from __future__ import annotations

from html import escape

from services.reporting.bulletin.text import percent

WIDTH = 640
ROW = 28
LABEL_WIDTH = 200
VALUE_WIDTH = 70
BAR_WIDTH = WIDTH - LABEL_WIDTH - VALUE_WIDTH
COLOURS = ("#2f6db3", "#e0883a")


def _svg(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _label(y: int, text: str) -> str:
    return (
        f'<text x="{LABEL_WIDTH - 8}" y="{y}" text-anchor="end" '
        f'dominant-baseline="middle" font-size="14">{escape(text)}</text>'
    )


def _bar(y: int, length: float, colour: str, height: int, shown: str) -> str:
    return (
        f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{height}" '
        f'fill="{colour}"/>'
        f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + height / 2:.1f}" '
        f'dominant-baseline="middle" font-size="13">{escape(shown)}</text>'
    )


def bar_chart(title: str, bars: list[tuple[str, int]]) -> str:
    """One horizontal bar per (label, count), scaled to the largest count."""
    largest = max((count for _, count in bars), default=0) or 1
    body = []
    for row, (name, count) in enumerate(bars):
        y = row * ROW + 4
        body.append(_label(y + 10, name))
        body.append(_bar(y, BAR_WIDTH * count / largest, COLOURS[0], 20, f"{count:,}"))
    return _svg(max(len(bars), 1) * ROW + 8, title, body)


def paired_bar_chart(title: str, legend: tuple[str, str], pairs: list[tuple[str, int, int]]) -> str:
    """Two bars per label (e.g. dispatched and resolved), on one scale, with a legend."""
    largest = max((max(a, b) for _, a, b in pairs), default=0) or 1
    body = [
        f'<rect x="{LABEL_WIDTH + index * 140}" y="4" width="14" height="14" fill="{colour}"/>'
        f'<text x="{LABEL_WIDTH + index * 140 + 20}" y="11" dominant-baseline="middle" '
        f'font-size="13">{escape(name)}</text>'
        for index, (name, colour) in enumerate(zip(legend, COLOURS, strict=True))
    ]
    for row, (name, first, second) in enumerate(pairs):
        y = 26 + row * (ROW + 12)
        body.append(_label(y + 17, name))
        body.append(_bar(y, BAR_WIDTH * first / largest, COLOURS[0], 16, f"{first:,}"))
        body.append(_bar(y + 18, BAR_WIDTH * second / largest, COLOURS[1], 16, f"{second:,}"))
    return _svg(26 + max(len(pairs), 1) * (ROW + 12), title, body)


def rate_chart(title: str, rates: list[tuple[str, float | None]], unknown: str) -> str:
    """One bar per rate on a 0–100 % scale; a rate over no cases shows `unknown`, no bar."""
    body = []
    for row, (name, rate) in enumerate(rates):
        y = row * ROW + 4
        body.append(_label(y + 10, name))
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="20" fill="#e8edf3"/>'
        )
        if rate is None:
            body.append(_bar(y, 0, COLOURS[0], 20, unknown))
        else:
            length = BAR_WIDTH * min(max(rate, 0.0), 1.0)
            body.append(_bar(y, length, COLOURS[0], 20, percent(rate)))
    return _svg(max(len(rates), 1) * ROW + 8, title, body)
