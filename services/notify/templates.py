"""The messages citizens receive, in Chinese; filled, signed and measured here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.notify.sms import segments


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    # Parts a filled message may take; step notices must fit in one.
    max_segments: int = 1


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "case_received",
            "您的诉求已受理，编号{tracking_no}，查询码{access_code}，我们将于{promised_date}前答复。",
        ),
        Template(
            "case_dispatched", "您的诉求{tracking_no}已交{department}办理，将于{deadline}前答复。"
        ),
        Template(
            "case_merged",
            "您的诉求{tracking_no}已并入{into_tracking_no}合并办理，可用原查询码查看进展。",
        ),
    )
}


def format_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class RenderedMessage:
    template: str
    text: str
    segments: int


def render(name: str, signature: str, **values: str) -> RenderedMessage:
    """The exact text sent: signature first, as carriers in China require."""
    template = TEMPLATES[name]
    text = signature + template.text.format(**values)
    return RenderedMessage(name, text, segments(text))
