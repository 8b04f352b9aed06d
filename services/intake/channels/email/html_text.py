"""HTML mail as plain text: what a reader sees, never scripts, styles or markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content a reader never sees; Outlook puts Word settings in <xml>.
_HIDDEN = frozenset({"script", "style", "title", "template", "noscript", "xml", "head"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
        "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            # <head> often lacks its end tag; the <body> that follows ends it.
            self.hidden += 1
        elif tag == "body":
            self.hidden = 0
        elif tag in _BLOCK:
            self.chunks.append("\n")
            self.pre += tag == "pre"
            if tag == "li":
                self.chunks.append("- ")
        elif tag in _CELL:
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.chunks.append("\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.chunks.append(data.replace("\u00a0", " ") if self.pre else _SPACES.sub(" ", data))


def html_to_text(html: str) -> tuple[str, bool]:
    """The text of `html`, block elements on their own lines; False when the HTML was broken."""
    collector = _TextCollector()
    intact = True
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # html.parser has raised on odd markup; keep what it read so far.
        intact = False
    lines = (line.strip(" ") for line in "".join(collector.chunks).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n"), intact
