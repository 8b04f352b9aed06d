"""Merging a case into another (并单): the dispatcher's decision, and what follows from it.

The merged case stops being worked on its own: its citizen follows the case it joined, routing
closes its work order, and notify tells its citizen and from then on keeps them informed of the
case it joined.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select, update

from services.intake.deps import IntakeWork
from services.intake.duplicates import DISMISSED, MERGED, OPEN
from services.intake.models import Case, DuplicateLink, TimelineEntry
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.events.contracts import CaseMerged
from services.kernel.language import InvalidValue, Language, preferred_language
from services.kernel.work import Work


@dataclass(frozen=True)
class Side:
    """A case as the merge rules see it: its number, and the number it was merged into."""

    tracking_no: str
    merged_into: str | None


@dataclass(frozen=True)
class MergeRefused:
    """Why a merge makes no sense: an HTTP status, the field to blame, a type and a reason."""

    status: int
    field: str
    type: str
    reason: InvalidValue


def refusal(case: Side, into: Side) -> MergeRefused | None:
    """What is wrong with merging `case` into `into`, if anything."""
    if case.tracking_no == into.tracking_no:
        return MergeRefused(
            422,
            "into",
            "merge_into_itself",
            InvalidValue("a case cannot be merged into itself", "诉求不能合并到自身"),
        )
    if case.merged_into is not None:
        return MergeRefused(
            409,
            "tracking_no",
            "already_merged",
            InvalidValue(
                f"{case.tracking_no} is already merged into {case.merged_into}",
                f"{case.tracking_no} 已合并到 {case.merged_into}",
            ),
        )
    if into.merged_into == case.tracking_no:
        return MergeRefused(
            409,
            "into",
            "merge_cycle",
            InvalidValue(
                f"{into.tracking_no} was merged into {case.tracking_no}: that would be a cycle",
                f"{into.tracking_no} 已合并到 {case.tracking_no}，不能再反向合并",
            ),
        )
    if into.merged_into is not None:
        return MergeRefused(
            409,
            "into",
            "into_merged_case",
            InvalidValue(
                f"{into.tracking_no} is itself merged into {into.merged_into}: merge into that",
                f"{into.tracking_no} 本身已合并到 {into.merged_into}，请合并到该诉求",
            ),
        )
    return None


def merge(work: Work, case: Case, into: Case, staff: Staff) -> None:
    """Mark `case` merged into `into`, with the cases merged into it, and tell the services."""
    session, now = work.session, utcnow()
    # Cases merged into this one before now follow the case it joins, so no chain is left.
    followers = list(session.scalars(select(Case).where(Case.merged_into_id == case.id)))
    for merged in (case, *followers):
        merged.merged_into_id = into.id
        merged.updated_at = now
        session.add(
            TimelineEntry(
                case_id=merged.id,
                occurred_at=now,
                status=MERGED,
                note=f"并入 {into.tracking_no}",
            )
        )
    case.status = MERGED
    _settle_links(work, case.id, into.id, staff.staff_id)
    work.publish(
        CaseMerged(
            case_id=case.id,
            tracking_no=case.tracking_no,
            into_case_id=into.id,
            into_tracking_no=into.tracking_no,
            merged_by=staff.staff_id,
        ),
        case_id=case.id,
    )


def _settle_links(work: Work, case_id: uuid.UUID, into_id: uuid.UUID, staff_id: str) -> None:
    """The pair's open links are merged; the merged case's others no longer stand on their own."""
    now = utcnow()
    pair = or_(
        and_(DuplicateLink.case_id == case_id, DuplicateLink.candidate_case_id == into_id),
        and_(DuplicateLink.case_id == into_id, DuplicateLink.candidate_case_id == case_id),
    )
    touching = or_(DuplicateLink.case_id == case_id, DuplicateLink.candidate_case_id == case_id)
    for condition, status in ((pair, MERGED), (touching, DISMISSED)):
        work.session.execute(
            update(DuplicateLink)
            .where(condition, DuplicateLink.status == OPEN)
            .values(status=status, decided_at=now, decided_by=staff_id)
        )


router = APIRouter(tags=["intake"])


class _MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    into: str = Field(min_length=1, max_length=20, description="the tracking number to join")


class MergedOut(BaseModel):
    tracking_no: str
    status: str
    into: str
    into_status: str


@router.post(
    "/api/v1/cases/{tracking_no}/merge",
    response_model=MergedOut,
    responses={
        404: {"description": "No case with that tracking number"},
        409: {"description": "Already merged, into a merged case, or a cycle"},
        422: {"description": "Into itself, or into an unknown case"},
    },
)
def merge_case(
    tracking_no: str,
    body: _MergeIn,
    work: IntakeWork,
    request: Request,
    staff: Annotated[Staff, Depends(require("dispatcher"))],
) -> MergedOut | JSONResponse:
    """Merge the case into another (并单): only that one is worked, and both citizens follow it."""
    language = preferred_language(request.headers.get("accept-language"))
    try:
        case, into = merge_numbers(work, tracking_no, body.into, staff)
    except MergeFailed as failed:
        if failed.refused is None:
            raise HTTPException(404, "no case with that tracking number") from None
        return _refused(failed.refused, language)
    return MergedOut(
        tracking_no=case.tracking_no,
        status=case.status,
        into=into.tracking_no,
        into_status=into.status,
    )


class MergeFailed(Exception):
    """The merge was not made: `refused` says why, or is None when the case does not exist."""

    def __init__(self, refused: MergeRefused | None) -> None:
        super().__init__(refused.reason.text("en") if refused else "no such case")
        self.refused = refused


def merge_numbers(work: Work, tracking_no: str, into_no: str, staff: Staff) -> tuple[Case, Case]:
    """Merge case `tracking_no` into `into_no`, checked by `refusal`; raises MergeFailed."""
    session = work.session
    # Both rows locked, in one order, so two dispatchers' merges of one pair queue up.
    rows = {
        c.tracking_no: c
        for c in session.scalars(
            select(Case)
            .where(Case.tracking_no.in_({tracking_no, into_no}))
            .order_by(Case.id)
            .with_for_update()
        )
    }
    case, into = rows.get(tracking_no), rows.get(into_no)
    if case is None:
        raise MergeFailed(None)
    if into is None:
        raise MergeFailed(
            MergeRefused(
                422,
                "into",
                "unknown_case",
                InvalidValue("no case with that tracking number", "没有这个编号的诉求"),
            )
        )
    refused = refusal(_side(work, case), _side(work, into))
    if refused is not None:
        raise MergeFailed(refused)
    merge(work, case, into, staff)
    return case, into


def _side(work: Work, case: Case) -> Side:
    joined = work.session.get(Case, case.merged_into_id) if case.merged_into_id else None
    return Side(case.tracking_no, joined.tracking_no if joined else None)


def _refused(refused: MergeRefused, language: Language) -> JSONResponse:
    error = {"field": refused.field, "message": refused.reason.text(language), "type": refused.type}
    return JSONResponse({"detail": [error]}, status_code=refused.status)
