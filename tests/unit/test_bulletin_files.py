"""The bulletin's files: a PDF that prints the figures, spreadsheets that add up, a page whose
charts are drawn inline, all from the scripted month."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pymupdf
from openpyxl import load_workbook

from services.reporting.bulletin import charts, sheets
from services.reporting.bulletin.files import bulletin_file
from services.reporting.bulletin.pdf import bulletin_pdf
from tests.unit.test_bulletin_text import NOVEMBER_BULLETIN


def rendered(pdf: bytes) -> tuple[str, list[float]]:
    """The PDF's text, and for each page the share of its pixels that are not white."""
    document = pymupdf.open(stream=pdf, filetype="pdf")
    text, inked = "", []
    for page in document:
        text += page.get_text()
        pixmap = page.get_pixmap(dpi=50, colorspace=pymupdf.csGRAY)
        samples = pixmap.samples
        inked.append(sum(1 for value in samples if value < 200) / len(samples))
    return text, inked


def test_the_pdf_prints_the_chinese_bulletin_with_its_figures_on_a_page_that_is_not_blank() -> None:
    text, inked = rendered(bulletin_pdf(NOVEMBER_BULLETIN))
    assert "民情 12345 诉求办理通报（2026年11月1日至30日）" in text
    assert "本期共受理群众诉求7件，其中热线电话1件、电子邮件1件、网上诉求5件。" in text
    assert "按期办结率75%" in text
    assert "满意率66.7%" in text
    assert "206.4" in text
    # Text, two charts and a table: a few percent of the first page is ink, not 0.
    assert inked[0] > 0.01


def test_the_pdf_prints_the_english_bulletin() -> None:
    text, inked = rendered(bulletin_pdf(NOVEMBER_BULLETIN, "en"))
    assert "Minqing 12345 bulletin, 1–30 November 2026" in text
    assert "7 requests received: 1 hotline call, 1 email, 5 web requests." in text
    assert "satisfaction rate 66.7%" in text
    assert inked[0] > 0.01


def test_the_figures_csv_lists_every_figure_then_the_breakdowns() -> None:
    raw = sheets.figures_csv(NOVEMBER_BULLETIN, "en")
    assert raw.startswith("\ufeffgroup,key,name,value\r\n")
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    figures = {row[1]: row[3] for row in rows if row[0] == "figures"}
    assert list(figures) == list(NOVEMBER_BULLETIN.figures)
    assert (figures["received"], figures["on_time_rate"]) == ("7", "0.75")
    assert rows[len(figures) + 1 :] == [
        ["channel", "hotline", "hotline", "1"],
        ["channel", "email", "email", "1"],
        ["channel", "web", "web", "5"],
        ["category", "roads", "roads", "6"],
        ["category", "water", "water", "1"],
        ["department dispatched", "trans", "trans", "3"],
        ["department resolved", "trans", "trans", "3"],
        ["department dispatched", "water", "water", "1"],
        ["department resolved", "water", "water", "1"],
    ]
    chinese = sheets.figures_csv(NOVEMBER_BULLETIN, "zh")
    assert "指标,received,受理诉求,7\r\n" in chinese
    assert "渠道,hotline,热线电话,1\r\n" in chinese


def test_the_figures_xlsx_holds_numbers_and_shows_rates_as_percentages() -> None:
    book = load_workbook(io.BytesIO(bulletin_file(NOVEMBER_BULLETIN, "xlsx", "zh")))
    sheet = book.active
    assert sheet is not None
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2) if row[0].value == "指标"}
    assert rows["received"][3].value == 7
    assert rows["on_time_rate"][3].value == 0.75
    assert rows["on_time_rate"][3].number_format == "0.0%"
    assert rows["satisfaction_rate"][2].value == "满意率"


CASES = [
    (
        "202611-A",
        "hotline",
        "complaint",
        "roads",
        "trans",
        "县交通运输局",
        "closed",
        datetime.fromisoformat("2026-11-02T02:00:00+00:00"),
        None,
        None,
        None,
        None,
        date(2026, 11, 10),
        True,
    )
]


def test_the_case_list_gives_moments_in_china_time_in_csv_and_xlsx() -> None:
    raw = "".join(sheets.cases_csv(CASES, "zh"))
    header, row = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    assert header[:3] == ["受理编号", "渠道", "类型"]
    assert row[:8] == [
        "202611-A",
        "hotline",
        "complaint",
        "roads",
        "trans",
        "县交通运输局",
        "closed",
        "2026-11-02 10:00",
    ]
    assert row[12:] == ["2026-11-10", "True"]
    sheet = load_workbook(io.BytesIO(sheets.cases_xlsx(CASES, "en"))).active
    assert sheet is not None
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0][0] == "tracking number"
    assert values[1][7] == datetime(2026, 11, 2, 10, 0)


def test_the_page_draws_its_charts_inline_and_says_the_bulletin() -> None:
    page = bulletin_file(NOVEMBER_BULLETIN, "html", "zh").decode()
    assert "本期共受理群众诉求7件" in page
    assert page.count("<svg") == 4
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    english = bulletin_file(NOVEMBER_BULLETIN, "html", "en").decode()
    assert "Requests received by channel" in english
    assert '<html lang="en">' in english


def test_a_bar_is_as_long_as_its_share_of_the_largest_and_labels_are_escaped() -> None:
    svg = charts.bar_chart("t", [("<b>", 5), ("x", 1)])
    assert "&lt;b&gt;" in svg
    assert "<b>" not in svg
    assert f'width="{charts.BAR_WIDTH:.1f}"' in svg
    assert f'width="{charts.BAR_WIDTH / 5:.1f}"' in svg


def test_a_rate_over_no_cases_has_no_bar_and_says_unknown() -> None:
    svg = charts.rate_chart("t", [("r", None), ("s", 0.5)], "n/a")
    assert 'width="0.0"' in svg
    assert f'width="{charts.BAR_WIDTH / 2:.1f}"' in svg
    assert "n/a" in svg
