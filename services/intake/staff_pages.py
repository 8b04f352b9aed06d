"""What intake's staff pages share: their templates, the sign-in check, posted forms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.kernel.auth import Role, Staff, staff_or_none
from services.kernel.http import field_errors
from services.kernel.pages import Pages, page_language
from services.kernel.workdays import LOCAL_TZ

pages = Pages(Path(__file__).with_name("templates"))


def signed_in(request: Request, *roles: Role) -> Staff | Response:
    """The member of staff, or the response to give instead: sign in first, or not allowed."""
    staff = staff_or_none(request)
    if staff is None:
        target = request.url.path
        return RedirectResponse(f"/staff/login?next={quote(target, safe='/')}", status_code=303)
    if not staff.has(*roles):
        return pages.render(
            request, "staff/forbidden.html", {"staff": staff, "roles": roles}, status_code=403
        )
    return staff


async def _form(request: Request) -> dict[str, str]:
    # Read on the event loop, so the endpoint itself can be a plain function on a worker thread.
    form = await request.form()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


Form = Annotated[dict[str, str], Depends(_form)]


def errors_by_field(request: Request, error: ValidationError) -> dict[str, str]:
    """A form's validation errors, field path to message, in the page's language."""
    return {
        e["field"]: e["message"]
        for e in field_errors(error.errors(include_url=False), page_language(request))
    }


def local_time(moment: datetime) -> str:
    """A time as the county reads it."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def filled(fields: dict[str, str], names: Sequence[str]) -> dict[str, Any]:
    """The named fields that were filled in (a blank input means "not given")."""
    return {name: fields[name] for name in names if fields.get(name)}


# Choices as the pages offer them: (value, Chinese, English).
KINDS = (
    ("consultation", "咨询", "Consultation"),
    ("help", "求助", "Help request"),
    ("complaint", "投诉", "Complaint"),
    ("suggestion", "建议", "Suggestion"),
    ("praise", "表扬", "Praise"),
    ("tip-off", "举报", "Tip-off"),
)
URGENCIES = (
    ("normal", "一般", "Normal"),
    ("urgent", "紧急", "Urgent"),
    ("extra-urgent", "特急", "Extra urgent"),
)
SCOPE_LEVELS = (
    ("society", "全社会", "Society-wide"),
    ("village", "全村", "Village-wide"),
    ("villager-group", "村民小组", "Villager group"),
    ("family", "家庭", "Family"),
    ("individual", "个人", "Individual"),
)
