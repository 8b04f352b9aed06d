"""The bulletin as a file in any format but the page, for downloads and the command line."""

from __future__ import annotations

from typing import Literal

from services.kernel.language import Language
from services.reporting.bulletin import sheets
from services.reporting.bulletin.content import Bulletin
from services.reporting.bulletin.page import standalone_page
from services.reporting.bulletin.pdf import bulletin_pdf
from services.reporting.bulletin.text import bulletin_text

Format = Literal["text", "html", "pdf", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {"text": "txt", "html": "html", "pdf": "pdf", "csv": "csv", "xlsx": "xlsx"}


def bulletin_file(bulletin: Bulletin, format: Format, language: Language) -> bytes:
    """The file's bytes; text in UTF-8, CSV with a byte-order mark for spreadsheets."""
    if format == "pdf":
        return bulletin_pdf(bulletin, language)
    if format == "xlsx":
        return sheets.figures_xlsx(bulletin, language)
    if format == "csv":
        return sheets.figures_csv(bulletin, language).encode("utf-8")
    if format == "html":
        return standalone_page(bulletin, language).encode("utf-8")
    return (bulletin_text(bulletin, language) + "\n").encode("utf-8")


def filename(bulletin: Bulletin, format: Format) -> str:
    return f"bulletin-{bulletin.first.isoformat()}-{bulletin.last.isoformat()}.{EXTENSIONS[format]}"
