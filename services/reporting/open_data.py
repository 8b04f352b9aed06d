"""Open data: a period's cases as Open311 GeoReport v2 service requests, for anyone to download.

`GET /api/v1/reports/open-data/requests.json` (also `.csv` and `.xml`) needs no sign-in, so it
publishes only what cannot point at a person:

- no tip-off, ever: a tip-off's existence, place and date can tell the one reported on who
  reported them. Only the kinds listed in PUBLISHED_KINDS are published, so a kind added later
  stays private until someone decides otherwise.
- no description, contact, coordinates or house: the read model holds none of them, and the
  address is rebuilt from the township and the village alone.
- the village only for matters that concern more than a household: "a family in 王家村 asked
  for help with 低保" names the family to its neighbours.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.workdays import LOCAL_TZ
from services.reporting.api import ReportingWork
from services.reporting.kpis import Period
from services.reporting.models import CaseFact
from services.reporting.period_query import PeriodQuery

router = APIRouter(tags=["open data"])

PUBLISHED_KINDS = ("consultation", "help", "complaint", "suggestion", "praise")
# Reporting's statuses that mean the county is done with the case; every other one is open.
CLOSED_STATUSES = frozenset({"resolved", "answered", "closed", "merged"})
# Scope levels wide enough that naming the village names no household.
VILLAGE_SCOPES = frozenset({"society", "village", "villager-group"})
# Intake's Open311 service list calls a case without a category this.
OTHER_SERVICE_CODE = "other"
FIELDS = (
    "service_request_id",
    "status",
    "service_name",
    "service_code",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "kind",
    "channel",
)
MEDIA_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# A spreadsheet would run a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Open data changes slowly; caches in front of the service may keep it a few minutes.
CACHE_SECONDS = 300

Row = dict[str, str | None]


@dataclass(frozen=True)
class PublicCase:
    """The columns of the read model that open data is built from, and no others."""

    tracking_no: str
    status: str
    kind: str
    channel: str | None
    category: str | None
    department_name: str | None
    township: str | None
    village: str | None
    scope_level: str | None
    submitted_at: datetime
    updated_at: datetime
    deadline: date | None


def published_address(township: str | None, village: str | None, scope: str | None) -> str | None:
    """The place as published: township and village, or the township alone when the matter
    concerns a household or an individual (or nobody said whom it concerns)."""
    shown = [township, village if scope in VILLAGE_SCOPES else None]
    text = "".join(part for part in shown if part)
    return text or None


def service_code(category: str | None) -> str:
    """The category's code as intake's Open311 service list gives it, so the two can be
    joined."""
    if category is None:
        return OTHER_SERVICE_CODE
    return hashlib.sha256(category.encode()).hexdigest()[:8]


def w3_datetime(moment: datetime) -> str:
    """ISO 8601 with the county's offset, to the second: 2026-12-01T09:30:00+08:00."""
    return moment.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()


def service_request(case: PublicCase) -> Row:
    """One case as a GeoReport v2 service request, with its kind and channel added."""
    status = "closed" if case.status in CLOSED_STATUSES else "open"
    expected = (
        datetime.combine(case.deadline, time(23, 59, 59), LOCAL_TZ).isoformat()
        if case.deadline is not None and status == "open"
        else None
    )
    return {
        "service_request_id": case.tracking_no,
        "status": status,
        "service_name": case.category,
        "service_code": service_code(case.category),
        "agency_responsible": case.department_name,
        "requested_datetime": w3_datetime(case.submitted_at),
        "updated_datetime": w3_datetime(case.updated_at),
        "expected_datetime": expected,
        "address": published_address(case.township, case.village, case.scope_level),
        "kind": case.kind,
        "channel": case.channel,
    }


def as_json(rows: Sequence[Row]) -> bytes:
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":")).encode()


def as_xml(rows: Sequence[Row]) -> bytes:
    """The spec's XML: `<service_requests>` of `<request>`, an unknown value an empty element."""
    root = ET.Element("service_requests")
    for row in rows:
        request = ET.SubElement(root, "request")
        for name in FIELDS:
            ET.SubElement(request, name).text = row[name]
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def as_csv(rows: Sequence[Row]) -> bytes:
    """One row per request under a header of FIELDS. The byte order mark makes spreadsheet
    programs read the Chinese as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode()


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    # A place is read from what a citizen typed: it must not run in the reader's spreadsheet.
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


RENDERERS = {"json": as_json, "csv": as_csv, "xml": as_xml}


def public_cases(session: Session, period: Period) -> list[PublicCase]:
    """The publishable cases submitted in `period`, in the order they came."""
    rows = session.execute(
        select(
            CaseFact.tracking_no,
            CaseFact.status,
            CaseFact.kind,
            CaseFact.channel,
            CaseFact.category,
            CaseFact.department_name,
            CaseFact.township,
            CaseFact.village,
            CaseFact.scope_level,
            CaseFact.submitted_at,
            CaseFact.updated_at,
            CaseFact.deadline,
        )
        # A row whose submission has not arrived yet has no kind: it might be a tip-off.
        .where(period.holds(CaseFact.submitted_at), CaseFact.kind.in_(PUBLISHED_KINDS))
        .order_by(CaseFact.submitted_at, CaseFact.tracking_no)
    )
    return [PublicCase(**row._asdict()) for row in rows]


def _headers(fmt: str, period: Period) -> Mapping[str, str]:
    headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}"}
    if fmt == "csv":
        name = f"requests-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return headers


@router.get("/api/v1/reports/open-data/requests.{fmt}")
def read_open_data(
    fmt: str, query: Annotated[PeriodQuery, Query()], work: ReportingWork
) -> Response:
    """The period's cases (never tip-offs) as GeoReport v2 service requests, as `json`, `csv`
    or `xml`: no description, no contact, no coordinates, the place to the village at most."""
    render = RENDERERS.get(fmt)
    if render is None:
        raise HTTPException(404, f"no format {fmt!r}: ask for .json, .csv or .xml")
    rows = [service_request(case) for case in public_cases(work.session, query.period)]
    return Response(
        render(rows), media_type=MEDIA_TYPES[fmt], headers=dict(_headers(fmt, query.period))
    )
