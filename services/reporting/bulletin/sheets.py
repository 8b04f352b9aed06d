"""The bulletin's figures and the period's case list as CSV and XLSX.

Values are written raw (a rate as 0.75, a moment in China Standard Time) so the sheets add up in
a spreadsheet; XLSX shows rates as percentages by number format only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from services.kernel.language import Language
from services.kernel.workdays import LOCAL_TZ
from services.reporting.bulletin.content import Bulletin
from services.reporting.bulletin.gather import CASE_COLUMNS, CaseCell
from services.reporting.bulletin.labels import CASE_COLUMN_LABELS, FIGURE_LABELS, is_rate, label
from services.reporting.bulletin.text import CHANNELS_ZH, department_name

Cell = str | int | float | bool | date | datetime | None
FIGURE_HEADER = {"zh": ("分组", "项目", "名称", "数值"), "en": ("group", "key", "name", "value")}
GROUPS = {
    "figures": ("指标", "figures"),
    "channel": ("渠道", "channel"),
    "category": ("类别", "category"),
    "department_dispatched": ("部门交办", "department dispatched"),
    "department_resolved": ("部门办结", "department resolved"),
}


def figure_rows(bulletin: Bulletin, language: Language) -> list[tuple[Cell, ...]]:
    """One row per figure, then per channel, category and department the bulletin names."""

    def group(key: str) -> str:
        return label(GROUPS, key, language)

    rows: list[tuple[Cell, ...]] = [
        (group("figures"), name, label(FIGURE_LABELS, name, language), value)
        for name, value in bulletin.figures.items()
    ]
    for share in bulletin.by_channel:
        key = share.key or ""
        name = key if language == "en" else CHANNELS_ZH.get(key, key)
        rows.append((group("channel"), key, name, share.count))
    rows += [(group("category"), c.key, c.key, c.count) for c in bulletin.top_categories]
    for department in bulletin.top_departments:
        name = department_name(department)
        rows.append((group("department_dispatched"), department.code, name, department.dispatched))
        rows.append((group("department_resolved"), department.code, name, department.resolved))
    return rows


def case_header(language: Language) -> list[str]:
    return [label(CASE_COLUMN_LABELS, column, language) for column in CASE_COLUMNS]


def local(cell: CaseCell) -> Cell:
    """Moments in China Standard Time without a zone, as spreadsheets hold them."""
    if isinstance(cell, datetime):
        return cell.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return cell


def _csv_value(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="minutes")
    return str(cell)


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Cell]]) -> Iterator[str]:
    """CSV text chunk by chunk, with a byte-order mark so spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_value(cell) for cell in row])
        yield buffer.getvalue()


def figures_csv(bulletin: Bulletin, language: Language) -> str:
    return "".join(to_csv(FIGURE_HEADER[language], figure_rows(bulletin, language)))


def cases_csv(rows: Iterable[tuple[CaseCell, ...]], language: Language) -> Iterator[str]:
    return to_csv(case_header(language), ([local(cell) for cell in row] for row in rows))


def figures_xlsx(bulletin: Bulletin, language: Language) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(label(GROUPS, "figures", language))
    sheet.append(list(FIGURE_HEADER[language]))
    for row in figure_rows(bulletin, language):
        *named, value = row
        # Figures are numbers or None; the cell type knows no other.
        shown = WriteOnlyCell(sheet, value if isinstance(value, int | float) else None)
        if row[0] == label(GROUPS, "figures", language) and is_rate(str(row[1])):
            shown.number_format = "0.0%"
        sheet.append([*named, shown])
    return _saved(book)


def cases_xlsx(rows: Iterable[tuple[CaseCell, ...]], language: Language) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("诉求" if language == "zh" else "cases")
    sheet.append(case_header(language))
    for row in rows:
        sheet.append([local(cell) for cell in row])
    return _saved(book)


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
