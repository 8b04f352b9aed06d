"""A tip-off's reporter (举报人): sealed from all but the tip-off officer, every reading audited.

Intake seals the reporter's name, phone and email when it records a tip-off; the case's own
columns stay empty, and events carry only the sealed value. Only staff with the role
`tip-off-officer` may open it, giving a reason, and each time is written down.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from services.intake.deps import IntakeWork
from services.intake.models import Case, ReporterDisclosure
from services.intake.submissions import open_contact
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.http import SettingsDep
from services.kernel.language import InvalidValue, preferred_language

log = logging.getLogger(__name__)

router = APIRouter(tags=["intake"])
TipOffOfficer = Annotated[Staff, Depends(require("tip-off-officer"))]
# Enough for "核实举报内容，需回电举报人" and the like; a reason is a sentence, not an essay.
MAX_REASON_LENGTH = 500
_NO_REASON = InvalidValue("say why you need the reporter's identity", "请说明查看举报人身份的理由")
_NOT_A_TIP_OFF = HTTPException(404, "no tip-off with that tracking number")


class ReporterOut(BaseModel):
    tracking_no: str
    name: str | None
    phone: str | None
    email: str | None
    disclosure_id: int
    disclosed_at: datetime


class DisclosureOut(BaseModel):
    id: int
    staff_id: str
    staff_name: str
    reason: str
    disclosed_at: datetime


def _tip_off(work: IntakeWork, tracking_no: str) -> Case:
    case = work.session.scalars(select(Case).where(Case.tracking_no == tracking_no)).first()
    if case is None or case.sealed_contact is None:
        raise _NOT_A_TIP_OFF
    return case


@router.get(
    "/api/v1/tipoffs/{tracking_no}/reporter",
    response_model=ReporterOut,
    responses={
        401: {"description": "No staff token"},
        403: {"description": "Not a tip-off officer"},
        404: {"description": "No tip-off with that tracking number"},
        422: {"description": "No reason given"},
    },
)
def read_reporter(
    tracking_no: str,
    work: IntakeWork,
    settings: SettingsDep,
    staff: TipOffOfficer,
    request: Request,
    response: Response,
    reason: Annotated[str, Query(max_length=MAX_REASON_LENGTH)],
) -> ReporterOut | JSONResponse:
    """The reporter's identity, for a tip-off officer who says why; the reading is recorded."""
    if not reason.strip():
        language = preferred_language(request.headers.get("accept-language"))
        error = {"field": "reason", "message": _NO_REASON.text(language), "type": "missing"}
        return JSONResponse({"detail": [error]}, status_code=422)
    case = _tip_off(work, tracking_no)
    assert case.sealed_contact is not None
    contact = open_contact(case.sealed_contact, settings.secret_key)
    disclosure = ReporterDisclosure(
        case_id=case.id,
        staff_id=staff.staff_id,
        staff_name=staff.name[:50],
        reason=reason.strip(),
        disclosed_at=utcnow(),
    )
    work.session.add(disclosure)
    work.session.flush()
    log.info(
        "tip-off reporter disclosed",
        extra={"tracking_no": case.tracking_no, "staff_id": staff.staff_id},
    )
    # Nothing on the way (a proxy, the browser's cache) may keep a copy of the identity.
    response.headers["Cache-Control"] = "no-store"
    return ReporterOut(
        tracking_no=case.tracking_no,
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        disclosure_id=disclosure.id,
        disclosed_at=disclosure.disclosed_at,
    )


@router.get("/api/v1/tipoffs/{tracking_no}/disclosures", response_model=list[DisclosureOut])
def list_disclosures(
    tracking_no: str, work: IntakeWork, staff: TipOffOfficer
) -> list[DisclosureOut]:
    """Every time the tip-off's reporter was read: who, when and why, oldest first."""
    case = _tip_off(work, tracking_no)
    rows = work.session.scalars(
        select(ReporterDisclosure)
        .where(ReporterDisclosure.case_id == case.id)
        .order_by(ReporterDisclosure.id)
    )
    return [
        DisclosureOut(
            id=row.id,
            staff_id=row.staff_id,
            staff_name=row.staff_name,
            reason=row.reason,
            disclosed_at=row.disclosed_at,
        )
        for row in rows
    ]
