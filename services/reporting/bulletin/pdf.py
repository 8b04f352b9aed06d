"""The bulletin as a printable A4 PDF.

Chinese is set in reportlab's built-in CID font STSong-Light, which every PDF reader supplies:
no font file ships with Minqing or is embedded in the document.
"""

from __future__ import annotations

import functools
import io

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.kernel.language import Language
from services.reporting.bulletin.content import Bulletin
from services.reporting.bulletin.page import UNKNOWN, channel_name, figure_table
from services.reporting.bulletin.text import RATES, paragraphs, percent, title

FONT = "STSong-Light"
INK = colors.HexColor("#1d2733")
BAR = colors.HexColor("#2f6db3")
PALE = colors.HexColor("#e8edf3")
CHART_WIDTH = 160 * mm


@functools.cache
def _font() -> str:
    # Registering twice is harmless but costs a lookup each time: once per process.
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = _font()
    heading = ParagraphStyle("heading", fontName=font, fontSize=17, leading=24, textColor=INK)
    subheading = ParagraphStyle("subheading", fontName=font, fontSize=13, leading=20)
    body = ParagraphStyle(
        "body", fontName=font, fontSize=11, leading=19, wordWrap="CJK", spaceAfter=4, textColor=INK
    )
    return heading, subheading, body


def _box(x: float, y: float, width: float, colour: colors.Color) -> Rect:
    box = Rect(x, y, width, 12)
    # Set after construction: the type stubs misdeclare the constructor's keyword arguments.
    box.fillColor = colour
    box.strokeColor = None
    return box


def _bars(heading: str, rows: list[tuple[str, float, str]]) -> Drawing:
    """Horizontal bars: (label, share of the full width 0..1, the value as printed)."""
    row_height, label_width = 18, 45 * mm
    bar_width = CHART_WIDTH - label_width - 20 * mm
    height = 20 + row_height * len(rows)
    drawing = Drawing(CHART_WIDTH, height)
    drawing.add(String(0, height - 12, heading, fontName=_font(), fontSize=11, fillColor=INK))
    for index, (name, share, value) in enumerate(rows):
        y = height - 20 - row_height * (index + 1) + 4
        drawing.add(
            String(label_width - 6, y + 3, name, fontName=_font(), fontSize=9, textAnchor="end")
        )
        drawing.add(_box(label_width, y, bar_width, PALE))
        length = bar_width * min(max(share, 0.0), 1.0)
        drawing.add(_box(label_width, y, length, BAR))
        drawing.add(String(label_width + length + 4, y + 3, value, fontName=_font(), fontSize=9))
    return drawing


def _charts(bulletin: Bulletin, language: Language) -> list[Flowable]:
    def t(zh: str, en: str) -> str:
        return en if language == "en" else zh

    found: list[Flowable] = []
    largest = max((s.count for s in bulletin.by_channel), default=0) or 1
    if bulletin.by_channel:
        found.append(
            _bars(
                t("各渠道受理诉求", "Requests received by channel"),
                [
                    (channel_name(s.key, language), s.count / largest, f"{s.count:,}")
                    for s in bulletin.by_channel
                ],
            )
        )
    rates = []
    for name, zh, en in RATES:
        rate = bulletin.measure(name)
        shown = UNKNOWN[language] if rate is None else percent(rate)
        rates.append((t(zh, en), rate or 0.0, shown))
    found.append(_bars(t("三率", "The three rates"), rates))
    return found


def bulletin_pdf(bulletin: Bulletin, language: Language = "zh") -> bytes:
    """The bulletin's title, text, charts and figures table on A4."""
    heading, subheading, body = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=title(bulletin, language),
        author="Minqing",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    story: list[Flowable] = [Paragraph(title(bulletin, language), heading), Spacer(1, 6 * mm)]
    story += [Paragraph(paragraph, body) for paragraph in paragraphs(bulletin, language)]
    for chart in _charts(bulletin, language):
        story += [Spacer(1, 5 * mm), chart]
    story += [
        Spacer(1, 6 * mm),
        Paragraph("主要指标" if language == "zh" else "Figures", subheading),
        Spacer(1, 2 * mm),
        _figures(bulletin, language),
    ]
    document.build(story)
    return out.getvalue()


def _figures(bulletin: Bulletin, language: Language) -> Table:
    table = Table(figure_table(bulletin, language), colWidths=[100 * mm, 50 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d6dce3")),
            ]
        )
    )
    return table
