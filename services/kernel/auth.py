"""Staff identity on every service: signed bearer tokens, and the roles a route requires.

Routing owns staff accounts and issues the tokens (OAuth2 password flow); every service verifies
them with a key derived from `MINQING_SECRET_KEY`, so no service calls another to know who asks.
Tokens are JWTs signed with HS256, readable by any JWT library given the derived key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

Role = Literal[
    "operator",  # records calls and visits, answers consultations (hotline, field officials)
    "dispatcher",  # the 12345 centre: manual dispatch, returns, extensions, merging duplicates
    "handler",  # a department's handler: works that department's queue only
    "supervisor",  # urges and supervises; reads reports
    "admin",  # staff accounts and the dispatch catalogue
    "tip-off-officer",  # the only role that may see a tip-off reporter's identity
]
ROLES: tuple[Role, ...] = (
    "operator",
    "dispatcher",
    "handler",
    "supervisor",
    "admin",
    "tip-off-officer",
)
TOKEN_TTL_SECONDS = 8 * 3600  # one working shift
COOKIE_NAME = "minqing_staff"
# Where routing issues tokens (OAuth2 password flow).
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)
_ISSUER = "minqing"


@dataclass(frozen=True)
class Staff:
    """Who is asking, as their token says."""

    staff_id: str
    name: str
    roles: frozenset[Role]
    department_code: str | None = None
    unit: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class InvalidToken(Exception):
    """The token is malformed, signed with another key, or expired."""


@functools.lru_cache(maxsize=4)
def _signing_key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"minqing:staff-token"
    ).derive(secret_key.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


def mint_token(
    staff: Staff, secret_key: str, ttl: int = TOKEN_TTL_SECONDS, now: float | None = None
) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": _ISSUER,
        "sub": staff.staff_id,
        "name": staff.name,
        "roles": sorted(staff.roles),
        "dept": staff.department_code,
        "unit": staff.unit,
        "iat": issued,
        "exp": issued + ttl,
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{_HEADER}.{body}"
    return f"{signed}.{_b64(_sign(signed, secret_key))}"


def verify_token(token: str, secret_key: str, now: float | None = None) -> Staff:
    try:
        header, body, signature = token.split(".")
        expected = _sign(f"{header}.{body}", secret_key)
        if header != _HEADER or not hmac.compare_digest(_unb64(signature), expected):
            raise InvalidToken("bad signature")
        claims = json.loads(_unb64(body))
        if claims.get("iss") != _ISSUER:
            raise InvalidToken("not issued by minqing")
        if (time.time() if now is None else now) >= claims["exp"]:
            raise InvalidToken("expired")
        roles = frozenset(r for r in claims["roles"] if r in ROLES)
        return Staff(
            staff_id=str(claims["sub"]),
            name=str(claims["name"]),
            roles=roles,
            department_code=claims.get("dept"),
            unit=claims.get("unit"),
        )
    except InvalidToken:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("malformed token") from exc


def _sign(signed: str, secret_key: str) -> bytes:
    return hmac.new(_signing_key(secret_key), signed.encode("ascii"), hashlib.sha256).digest()


_UNAUTHENTICATED = HTTPException(
    401,
    "sign in first: send a staff token as `Authorization: Bearer …`",
    headers={"WWW-Authenticate": "Bearer"},
)


def _token_of(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    # Server-rendered pages carry the token in an HttpOnly cookie instead.
    return request.cookies.get(COOKIE_NAME)


def staff_or_none(request: Request) -> Staff | None:
    """The signed-in member of staff, or None for a citizen or an invalid token."""
    token = _token_of(request)
    if token is None:
        return None
    try:
        return verify_token(token, request.app.state.settings.secret_key)
    except InvalidToken:
        return None


# Declares the password flow in the OpenAPI schema, so /docs can "Authorize". The token itself is
# read by _token_of, which also takes the pages' cookie; hence no automatic 401 here.
bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_Bearer = Annotated[str | None, Depends(bearer_scheme)]


def current_staff(request: Request, _bearer: _Bearer = None) -> Staff:
    staff = staff_or_none(request)
    if staff is None:
        raise _UNAUTHENTICATED
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Staff]]:
    """A dependency admitting staff with any of `roles`: 401 without a token, 403 without one."""

    async def dependency(request: Request, _bearer: _Bearer = None) -> Staff:
        staff = current_staff(request)
        if not staff.has(*roles):
            raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")
        return staff

    return dependency
