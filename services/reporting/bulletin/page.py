"""What the bulletin's page and PDF show besides the text: the figures table and the charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from services.kernel.language import Language
from services.kernel.pages import Pages
from services.reporting.bulletin import charts
from services.reporting.bulletin.content import Bulletin, Number
from services.reporting.bulletin.labels import FIGURE_LABELS, is_rate, label
from services.reporting.bulletin.text import (
    CHANNELS_EN,
    CHANNELS_ZH,
    RATES,
    department_name,
    number,
    paragraphs,
    percent,
    title,
)

UNKNOWN = {"zh": "暂无", "en": "n/a"}
pages = Pages(Path(__file__).resolve().parent.parent / "templates")


def shown(name: str, value: Number, language: Language) -> str:
    """A figure as a person reads it: 12,500 · 75% · 206.4 (hours, days); a rate over no cases
    is unknown."""
    if value is None:
        return UNKNOWN[language]
    if is_rate(name):
        return percent(float(value))
    if isinstance(value, float):
        return f"{value:,.1f}"
    return number(value)


def figure_table(bulletin: Bulletin, language: Language) -> list[tuple[str, str]]:
    return [
        (label(FIGURE_LABELS, name, language), shown(name, value, language))
        for name, value in bulletin.figures.items()
    ]


def channel_name(key: str | None, language: Language) -> str:
    if language == "en":
        return CHANNELS_EN.get(key or "", ("", key or "other"))[1]
    return CHANNELS_ZH.get(key or "", key or "其他")


def chart_markup(bulletin: Bulletin, language: Language) -> list[str]:
    """The page's charts: channels, the three rates, categories, departments (those with data)."""

    def t(zh: str, en: str) -> str:
        return en if language == "en" else zh

    found = []
    if bulletin.by_channel:
        found.append(
            charts.bar_chart(
                t("各渠道受理诉求", "Requests received by channel"),
                [(channel_name(s.key, language), s.count) for s in bulletin.by_channel],
            )
        )
    found.append(
        charts.rate_chart(
            t("三率", "The three rates"),
            [(t(zh, en), bulletin.measure(name)) for name, zh, en in RATES],
            UNKNOWN[language],
        )
    )
    if bulletin.top_categories:
        found.append(
            charts.bar_chart(
                t("反映较多的问题", "Most raised"),
                [(s.key or "", s.count) for s in bulletin.top_categories],
            )
        )
    if bulletin.top_departments:
        found.append(
            charts.paired_bar_chart(
                t("交办较多的部门", "Departments dispatched to most"),
                (t("交办", "dispatched"), t("办结", "resolved")),
                [(department_name(d), d.dispatched, d.resolved) for d in bulletin.top_departments],
            )
        )
    return found


def page_context(bulletin: Bulletin, language: Language, links: dict[str, str]) -> dict[str, Any]:
    """The template's context; `links` are the other formats' addresses, by format."""
    return {
        "bulletin": bulletin,
        "heading": title(bulletin, language),
        "paragraphs": paragraphs(bulletin, language),
        "figures": figure_table(bulletin, language),
        "charts": chart_markup(bulletin, language),
        "links": links,
    }


def standalone_page(bulletin: Bulletin, language: Language) -> str:
    """The page on its own, for a file: no request behind it, so no links to other formats."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": urlencode({"lang": language}).encode(),
        "headers": [],
    }
    response = pages.render(Request(scope), "bulletin.html", page_context(bulletin, language, {}))
    return bytes(response.body).decode()
