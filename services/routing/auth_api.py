"""Signing staff in: the OAuth2 password flow for clients, a sign-in page for browsers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from services.kernel.auth import (
    COOKIE_NAME,
    TOKEN_TTL_SECONDS,
    TOKEN_URL,
    CurrentStaff,
    Staff,
    mint_token,
    staff_or_none,
)
from services.kernel.http import SettingsDep, unit_of_work_for
from services.kernel.pages import Pages
from services.kernel.work import Work
from services.routing.staff import SignInThrottle, as_staff, authenticate

router = APIRouter(tags=["routing"])
pages = Pages(Path(__file__).with_name("templates"))
RoutingWork = Annotated[Work, Depends(unit_of_work_for("routing"), scope="function")]
# Where a signed-in operator starts; other roles start on the staff home page.
OPERATOR_HOME = "/staff/hotline"
STAFF_HOME = "/staff"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def sign_in_throttle(request: Request) -> SignInThrottle:
    # Made on first use, on the event loop's one thread, so never twice.
    state = request.app.state
    if getattr(state, "sign_in_throttle", None) is None:
        state.sign_in_throttle = SignInThrottle()
    throttle: SignInThrottle = state.sign_in_throttle
    return throttle


Throttle = Annotated[SignInThrottle, Depends(sign_in_throttle)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**_NO_STORE, **headers},
    )


@router.post(
    TOKEN_URL,
    response_model=TokenOut,
    responses={
        400: {"description": "`invalid_request` or `unsupported_grant_type`"},
        401: {"description": "`invalid_grant`: wrong username or password, or a disabled account"},
        429: {"description": "too many failed sign-ins for this username or address"},
    },
)
def issue_token(
    request: Request,
    work: RoutingWork,
    settings: SettingsDep,
    throttle: Throttle,
    grant_type: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
) -> TokenOut | JSONResponse:
    """A staff token for a username and password (OAuth2 password grant, form-encoded).

    An unknown username, a wrong password and a disabled account get the same 401. After five
    failures for one username (or thirty from one address) within 15 minutes, sign-ins are
    refused with 429 and `Retry-After` until the oldest failure is 15 minutes old.
    """
    if grant_type != "password":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be 'password'")
    if not username or not password:
        return _oauth_error(400, "invalid_request", "username and password are required")
    address = request.client.host if request.client else None
    wait = throttle.wait(username, address)
    if wait:
        return _oauth_error(
            429,
            "invalid_grant",
            f"too many failed sign-ins; try again in {wait} s",
            **{"Retry-After": str(wait)},
        )
    member = authenticate(work.session, username, password)
    if member is None:
        throttle.failed(username, address)
        return _oauth_error(
            401,
            "invalid_grant",
            "wrong username or password",
            **{"WWW-Authenticate": "Bearer"},
        )
    throttle.succeeded(username)
    token = mint_token(as_staff(member), settings.secret_key)
    return JSONResponse(
        TokenOut(access_token=token, expires_in=TOKEN_TTL_SECONDS).model_dump(), headers=_NO_STORE
    )


class StaffOut(BaseModel):
    staff_id: str
    name: str
    roles: list[str]
    department_code: str | None
    unit: str | None


@router.get("/api/v1/auth/me", response_model=StaffOut)
def who_am_i(staff: CurrentStaff) -> StaffOut:
    """Who the token says is asking."""
    return StaffOut(
        staff_id=staff.staff_id,
        name=staff.name,
        roles=sorted(staff.roles),
        department_code=staff.department_code,
        unit=staff.unit,
    )


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after signing in; anything else (another site) is None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def landing(staff: Staff, target: str | None) -> str:
    return safe_next(target) or (OPERATOR_HOME if staff.has("operator") else STAFF_HOME)


def login_url(target: str) -> str:
    return f"/staff/login?next={quote(target, safe='/')}"


@router.get("/staff/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    return pages.render(
        request, "login.html", {"next": safe_next(next) or "", "username": "", "error": None}
    )


@router.post("/staff/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    work: RoutingWork,
    settings: SettingsDep,
    throttle: Throttle,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password, put the token in an HttpOnly cookie, go where the user was going."""
    address = request.client.host if request.client else None
    context = {"next": safe_next(next) or "", "username": username}
    wait = throttle.wait(username, address)
    if wait:
        error = ("too_many", wait)
        return pages.render(request, "login.html", {**context, "error": error}, status_code=429)
    member = authenticate(work.session, username, password) if username and password else None
    if member is None:
        throttle.failed(username, address)
        error = ("wrong", 0)
        return pages.render(request, "login.html", {**context, "error": error}, status_code=401)
    throttle.succeeded(username)
    staff = as_staff(member)
    response = RedirectResponse(landing(staff, next), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        mint_token(staff, settings.secret_key),
        max_age=TOKEN_TTL_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.api_route(
    "/staff/logout", methods=["GET", "POST"], response_class=HTMLResponse, include_in_schema=False
)
def logout() -> Response:
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def staff_home(request: Request) -> Response:
    """Who is signed in, and the pages their roles open."""
    staff = staff_or_none(request)
    if staff is None:
        return RedirectResponse(login_url(STAFF_HOME), status_code=303)
    return pages.render(request, "staff_home.html", {"staff": staff})
