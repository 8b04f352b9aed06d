"""Intake's HTTP API: the channels' routes and the citizen's view of a case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import (
    domain,
    duplicates,
    duplicates_page,
    follow_up,
    knowledge,
    merging,
    messages,
    tipoffs,
)
from services.intake.channels import hotline, open311, portal, visit, web
from services.intake.deps import IntakeWork, Limits
from services.intake.models import Case, CatalogueCategory
from services.kernel.auth import Staff, require
from services.kernel.http import SettingsDep
from services.kernel.language import preferred_language

citizen_view = APIRouter(tags=["intake"])
staff_view = APIRouter(tags=["intake"])
catalogue = APIRouter(tags=["intake"])
routers = [
    web.router,
    citizen_view,
    staff_view,
    catalogue,
    follow_up.router,
    portal.router,
    hotline.router,
    visit.router,
    knowledge.router,
    open311.router,
    tipoffs.router,
    duplicates.router,
    duplicates_page.router,
    merging.router,
]


class TimelineItem(BaseModel):
    at: datetime
    status: str
    label: str
    note: str | None


class MessageItem(BaseModel):
    """A message sent to the citizen about the case: which notice, how, when, and if it arrived."""

    template: str
    label: str
    label_en: str
    channel: str
    sent_at: datetime | None
    status: messages.DeliveryStatus
    status_label: str
    status_label_en: str
    status_at: datetime


class JoinedCase(BaseModel):
    """The case a merged case joined, as it now stands: its citizen follows it here."""

    tracking_no: str
    status: str
    status_label: str
    department: str | None
    promised_date: date


class CaseView(BaseModel):
    tracking_no: str
    status: str
    status_label: str
    kind: str
    category: str | None
    channel: str
    description: str
    department: str | None
    promised_date: date
    submitted_at: datetime
    timeline: list[TimelineItem]
    merged_into: JoinedCase | None = None
    messages: list[MessageItem] = []


_NOT_FOUND = HTTPException(404, "no case with that tracking number and access code")


@citizen_view.get("/api/v1/cases/{tracking_no}", response_model=CaseView)
def read_case(
    tracking_no: str,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
    request: Request,
    access_code: Annotated[str, Query(min_length=1, max_length=32)],
) -> CaseView | JSONResponse:
    """The citizen's own case. A wrong code and an unknown number get the same 404.

    An address that keeps getting them wrong is refused for a while (429), right or wrong, so
    access codes cannot be guessed.
    """
    client = request.client.host if request.client else None
    refusal = limits.check_lookup(client)
    if refusal is not None:
        return web.too_many(refusal, preferred_language(request.headers.get("accept-language")))
    case = work.session.scalars(select(Case).where(Case.tracking_no == tracking_no)).first()
    if case is None or not domain.access_code_matches(
        access_code, case.access_code_hash, settings.secret_key
    ):
        limits.failed_lookup(client)
        raise _NOT_FOUND
    return CaseView(
        tracking_no=case.tracking_no,
        status=case.status,
        status_label=domain.STATUS_LABELS[case.status],
        kind=case.kind,
        category=case.category,
        channel=case.channel,
        description=case.description,
        department=case.department_name,
        promised_date=case.promised_date,
        submitted_at=case.submitted_at,
        timeline=[
            TimelineItem(
                at=entry.occurred_at,
                status=entry.status,
                label=domain.STATUS_LABELS[entry.status],
                note=entry.note,
            )
            for entry in case.timeline
        ],
        merged_into=_joined(work, case),
        messages=message_items(work.session, case),
    )


# Staff who answer a citizen asking whether they were told, and who follow cases up.
CaseStaff = Annotated[Staff, Depends(require("operator", "dispatcher", "supervisor"))]


@staff_view.get(
    "/api/v1/cases/{tracking_no}/messages",
    response_model=list[MessageItem],
    responses={401: {"description": "No staff token"}, 403: {"description": "Not case staff"}},
)
def read_case_messages(tracking_no: str, work: IntakeWork, staff: CaseStaff) -> list[MessageItem]:
    """The messages sent to the case's citizen and whether they arrived.

    Nothing here names the citizen (a tip-off's reporter included): no number, no address, no
    text.
    """
    case = work.session.scalars(select(Case).where(Case.tracking_no == tracking_no)).first()
    if case is None:
        raise HTTPException(404, "no case with that tracking number")
    return message_items(work.session, case)


def message_items(session: Session, case: Case) -> list[MessageItem]:
    """The messages sent to the case's citizen, labelled in both languages."""
    items = []
    for row in messages.of_case(session, case.id):
        label, label_en = messages.CITIZEN_TEMPLATES.get(row.template, (row.template, row.template))
        status_label, status_label_en = messages.STATUS_LABELS[row.status]
        items.append(
            MessageItem(
                template=row.template,
                label=label,
                label_en=label_en,
                channel=row.channel,
                sent_at=row.sent_at,
                status=cast(messages.DeliveryStatus, row.status),
                status_label=status_label,
                status_label_en=status_label_en,
                status_at=row.status_at,
            )
        )
    return items


def _joined(work: IntakeWork, case: Case) -> JoinedCase | None:
    joined = work.session.get(Case, case.merged_into_id) if case.merged_into_id else None
    if joined is None:
        return None
    return JoinedCase(
        tracking_no=joined.tracking_no,
        status=joined.status,
        status_label=domain.STATUS_LABELS[joined.status],
        department=joined.department_name,
        promised_date=joined.promised_date,
    )


class DepartmentRef(BaseModel):
    code: str
    name: str
    name_en: str


class CategoryOut(BaseModel):
    category: str
    department: DepartmentRef


@catalogue.get("/api/v1/categories", response_model=list[CategoryOut])
def list_categories(work: IntakeWork) -> list[CategoryOut]:
    """What a citizen may choose as a case's category, and who handles it.

    Kept from routing's dispatch catalogue; empty until routing has first published it.
    """
    rows = work.session.scalars(select(CatalogueCategory).order_by(CatalogueCategory.position))
    return [
        CategoryOut(
            category=row.category,
            department=DepartmentRef(
                code=row.department_code, name=row.department_name, name_en=row.department_name_en
            ),
        )
        for row in rows
    ]
