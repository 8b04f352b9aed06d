"""The dispatcher's page of possible duplicates (`/staff/duplicates`): merge them or dismiss them.

The same decisions as the API (`/api/v1/duplicates`, `/api/v1/cases/{no}/merge`), from a list:
each pair shows both matters side by side, never the people who raised them.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.intake.deps import IntakeWork
from services.intake.duplicates import dismiss, open_link, open_links
from services.intake.merging import MergeFailed, merge_numbers
from services.intake.models import Case
from services.intake.staff_pages import local_time, pages, signed_in
from services.kernel.auth import Staff
from services.kernel.pages import page_language

router = APIRouter(include_in_schema=False)
PAGE = "/staff/duplicates"
LISTED = 100


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return pages.render(
        request,
        "staff/duplicates.html",
        {
            "staff": staff,
            "links": open_links(session, LISTED),
            "done": done,
            "error": error,
            "local": local_time,
        },
        status_code=status_code,
    )


@router.get(PAGE)
def duplicates_page(request: Request, work: IntakeWork) -> Response:
    staff = signed_in(request, "dispatcher")
    if not isinstance(staff, Staff):
        return staff
    return _page(request, work.session, staff)


@router.post(PAGE + "/{link_id}/merge")
def merge_from_page(link_id: int, request: Request, work: IntakeWork) -> Response:
    """Merge the later case into the earlier one, as detection linked them."""
    staff = signed_in(request, "dispatcher")
    if not isinstance(staff, Staff):
        return staff
    session = work.session
    try:
        link = open_link(session, link_id)
        case = session.get_one(Case, link.case_id)
        into = session.get_one(Case, link.candidate_case_id)
        merge_numbers(work, case.tracking_no, into.tracking_no, staff)
    except HTTPException as gone:
        return _page(request, session, staff, error=str(gone.detail), status_code=gone.status_code)
    except MergeFailed as failed:
        message = failed.refused.reason.text(page_language(request)) if failed.refused else None
        return _page(request, session, staff, error=message, status_code=409)
    # Post, redirect, get: reloading the page afterwards does not merge again.
    return RedirectResponse(f"{PAGE}?merged={case.tracking_no}", status_code=303)


@router.post(PAGE + "/{link_id}/dismiss")
def dismiss_from_page(link_id: int, request: Request, work: IntakeWork) -> Response:
    """The two are different matters: the link is closed, both cases go on on their own."""
    staff = signed_in(request, "dispatcher")
    if not isinstance(staff, Staff):
        return staff
    session = work.session
    try:
        dismiss(session, link_id, staff)
    except HTTPException as gone:
        return _page(request, session, staff, error=str(gone.detail), status_code=gone.status_code)
    return RedirectResponse(f"{PAGE}?dismissed={link_id}", status_code=303)
