"""The bulletin over HTTP: any period in any format, the period's cases, and those stored.

For supervisors and admins only, like every figure of reporting's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from services.kernel.clock import utcnow
from services.kernel.language import Language
from services.kernel.pages import page_language
from services.reporting.api import ReportingWork, ReportReader
from services.reporting.bulletin import sheets
from services.reporting.bulletin.content import Bulletin
from services.reporting.bulletin.files import XLSX, Format, bulletin_file, filename
from services.reporting.bulletin.gather import case_rows, gather
from services.reporting.bulletin.page import page_context, pages
from services.reporting.bulletin.publishing import publish_now
from services.reporting.bulletin.store import StoredBulletin, latest
from services.reporting.bulletin.text import bulletin_text
from services.reporting.period_query import PeriodQuery

router = APIRouter(tags=["reporting"])

FORMATS: tuple[Format, ...] = ("text", "html", "pdf", "csv", "xlsx")
MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "xlsx": XLSX}


class Rendering(BaseModel):
    """How to show a bulletin: a format, and a language (the page's own choice if unsaid)."""

    model_config = ConfigDict(extra="forbid")

    format: Format = "text"
    lang: Language | None = None


class BulletinQuery(PeriodQuery, Rendering):
    pass


class CasesQuery(PeriodQuery):
    lang: Language | None = None


def _language(request: Request, asked: Language | None) -> Language:
    return asked or page_language(request)


def _download(content: bytes | str, media_type: str, name: str, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


def render(
    request: Request,
    bulletin: Bulletin,
    format: Format,
    language: Language,
    link: Callable[[Format], str],
) -> Response:
    """The bulletin in `format`; `link` gives the address of the same bulletin in another."""
    if format == "html":
        links: dict[str, str] = {other: link(other) for other in FORMATS if other != "html"}
        return pages.render(request, "bulletin.html", page_context(bulletin, language, links))
    if format == "text":
        return PlainTextResponse(bulletin_text(bulletin, language))
    content = bulletin_file(bulletin, format, language)
    # The PDF opens in the browser to be printed; spreadsheets are saved.
    return _download(content, MEDIA_TYPES[format], filename(bulletin, format), format == "pdf")


@router.get("/api/v1/reports/bulletin", response_class=Response)
def read_bulletin(
    query: Annotated[BulletinQuery, Query()],
    request: Request,
    work: ReportingWork,
    _reader: ReportReader,
) -> Response:
    """The period's bulletin as the read model stands now (`format` text, html, pdf, csv or
    xlsx; `lang` zh or en)."""
    language = _language(request, query.lang)
    bulletin = gather(work.session, query.period)

    def link(format: Format) -> str:
        wanted = {"from": query.first, "to": query.last, "format": format, "lang": language}
        return f"{request.url.path}?{urlencode(wanted)}"

    return render(request, bulletin, query.format, language, link)


@router.get("/api/v1/reports/cases.csv", response_class=Response)
def cases_csv(
    query: Annotated[CasesQuery, Query()],
    request: Request,
    work: ReportingWork,
    _reader: ReportReader,
) -> Response:
    """The cases submitted in the period: what and where, never who."""
    language = _language(request, query.lang)
    table = "".join(sheets.cases_csv(case_rows(work.session, query.period), language))
    name = f"cases-{query.first.isoformat()}-{query.last.isoformat()}.csv"
    return _download(table, "text/csv; charset=utf-8", name, inline=False)


@router.get("/api/v1/reports/cases.xlsx", response_class=Response)
def cases_xlsx(
    query: Annotated[CasesQuery, Query()],
    request: Request,
    work: ReportingWork,
    _reader: ReportReader,
) -> Response:
    """The cases submitted in the period, as a spreadsheet."""
    language = _language(request, query.lang)
    book = sheets.cases_xlsx(case_rows(work.session, query.period), language)
    name = f"cases-{query.first.isoformat()}-{query.last.isoformat()}.xlsx"
    return _download(book, XLSX, name, inline=False)


class StoredOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="weekly, monthly or on-demand")
    first: date
    last: date
    produced_at: datetime
    links: dict[str, str] = Field(description="the bulletin in each format")


def _stored_out(bulletin: StoredBulletin) -> StoredOut:
    base = f"/api/v1/reports/bulletins/{bulletin.id}"
    return StoredOut(
        id=bulletin.id,
        kind=bulletin.kind,
        first=bulletin.first_day,
        last=bulletin.last_day,
        produced_at=bulletin.produced_at,
        links={format: f"{base}?format={format}" for format in FORMATS},
    )


@router.get("/api/v1/reports/bulletins", response_model=list[StoredOut])
def list_bulletins(
    work: ReportingWork,
    _reader: ReportReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[StoredOut]:
    """The bulletins produced, newest first."""
    return [_stored_out(bulletin) for bulletin in latest(work.session, limit, offset)]


@router.post("/api/v1/reports/bulletins", response_model=StoredOut, status_code=201)
def publish_bulletin(period: PeriodQuery, work: ReportingWork, _reader: ReportReader) -> StoredOut:
    """Produce the period's bulletin now and keep it."""
    return _stored_out(publish_now(work.session, period.period, utcnow()))


@router.get("/api/v1/reports/bulletins/{bulletin_id}", response_class=Response)
def read_stored_bulletin(
    bulletin_id: uuid.UUID,
    rendering: Annotated[Rendering, Query()],
    request: Request,
    work: ReportingWork,
    _reader: ReportReader,
) -> Response:
    """A stored bulletin, as it was when produced."""
    found = work.session.get(StoredBulletin, bulletin_id)
    if found is None:
        raise HTTPException(404, "no such bulletin")
    language = _language(request, rendering.lang)

    def link(format: Format) -> str:
        return f"{request.url.path}?{urlencode({'format': format, 'lang': language})}"

    return render(request, found.bulletin(), rendering.format, language, link)
