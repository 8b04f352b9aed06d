"""Following a case up with its access code: add material, rate the result.

The JSON routes here serve mobile apps and Open311-style clients; the portal's pages use the same
rules through `find_case`, `check_material` and `ratings.rate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.intake import domain, ratings
from services.intake.attachments import (
    MAX_TOTAL_BYTES,
    AttachmentRefused,
    CheckedFile,
    IncomingFile,
    check_files,
)
from services.intake.channels.web import too_many
from services.intake.deps import IntakeWork, Limits
from services.intake.models import Case
from services.intake.supplements import supplement
from services.kernel.events.contracts import RatingValue
from services.kernel.http import SettingsDep, allow_body
from services.kernel.language import InvalidValue, Language, preferred_language
from services.kernel.work import Work

router = APIRouter(tags=["intake"])

MAX_TEXT_LENGTH = 5000
# The files at their limit, plus the form's other fields and the multipart framing.
UPLOAD_BODY_BYTES = MAX_TOTAL_BYTES + 1024 * 1024
# Once resolved (or answered on the spot) a case takes no more material; a rating, or a new
# case, says what is still wrong.
_CLOSED = ("resolved", "answered")
_NOT_FOUND = "no case with that tracking number and access code"


class FieldsRefused(Exception):
    """Input refused field by field; `errors` maps each field to why."""

    def __init__(self, errors: dict[str, InvalidValue]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class CaseClosed(InvalidValue):
    def __init__(self) -> None:
        super().__init__(
            "the case is closed; to raise something new, submit a new case",
            "该诉求已办结，不能再补充材料；如有新的问题，请重新提交诉求",
        )


_NOTHING_TO_ADD = InvalidValue(
    "write what you want to add, or attach a file", "请填写补充内容或上传文件"
)
_TEXT_TOO_LONG = InvalidValue(
    f"at most {MAX_TEXT_LENGTH} characters", f"最多 {MAX_TEXT_LENGTH} 个字符"
)


def find_case(work: Work, tracking_no: str, access_code: str, secret_key: str) -> Case | None:
    """The case, if the access code is its own; an unknown number and a wrong code look alike."""
    case = work.session.scalars(select(Case).where(Case.tracking_no == tracking_no.strip())).first()
    if case is None or not domain.access_code_matches(
        access_code, case.access_code_hash, secret_key
    ):
        return None
    return case


def accepts_material(status: str) -> bool:
    return status not in _CLOSED


def check_material(text: str, files: Sequence[IncomingFile]) -> tuple[str, list[CheckedFile]]:
    """The text and the checked files, or FieldsRefused naming `text` and `files`."""
    text = text.strip()
    errors: dict[str, InvalidValue] = {}
    checked: list[CheckedFile] = []
    if len(text) > MAX_TEXT_LENGTH:
        errors["text"] = _TEXT_TOO_LONG
    try:
        checked = check_files(files)
    except AttachmentRefused as exc:
        errors["files"] = exc
    if not errors and not text and not checked:
        errors["text"] = _NOTHING_TO_ADD
    if errors:
        raise FieldsRefused(errors)
    return text, checked


def error_list(
    errors: dict[str, InvalidValue], language: Language, kind: str
) -> list[dict[str, str]]:
    return [
        {"field": field, "message": error.text(language), "type": kind}
        for field, error in errors.items()
    ]


class SupplementAccepted(BaseModel):
    tracking_no: str
    status: str
    attachments: int


class RatingChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: RatingValue
    comment: str | None = Field(default=None, max_length=ratings.MAX_COMMENT_LENGTH)


class RatingIn(RatingChoice):
    access_code: str = Field(min_length=1, max_length=32)


class RatingAccepted(BaseModel):
    tracking_no: str
    rating: RatingValue
    rated_at: datetime


_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "No case with that tracking number and access code"},
    422: {"description": "A field is invalid"},
    429: {"description": "Too many wrong tracking numbers or access codes from this address"},
}


@router.post(
    "/api/v1/cases/{tracking_no}/supplements",
    status_code=201,
    response_model=SupplementAccepted,
    responses={**_RESPONSES, 409: {"description": "The case is closed"}},
)
@allow_body(UPLOAD_BODY_BYTES)
def add_supplement(
    tracking_no: str,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
    request: Request,
    access_code: Annotated[str, Form(min_length=1, max_length=32)],
    text: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> SupplementAccepted | JSONResponse:
    """Add material to a case (multipart: `access_code`, `text`, `files`), as asked or unasked."""
    language = preferred_language(request.headers.get("accept-language"))
    client = request.client.host if request.client else None
    refusal = limits.check_lookup(client) or limits.check(client, None)
    if refusal is not None:
        return too_many(refusal, language)
    case = find_case(work, tracking_no, access_code, settings.secret_key)
    if case is None:
        limits.failed_lookup(client)
        raise HTTPException(404, _NOT_FOUND)
    if not accepts_material(case.status):
        errors = error_list({"text": CaseClosed()}, language, "case_closed")
        return JSONResponse({"detail": errors}, 409)
    incoming = [IncomingFile(f.filename or "", f.file.read()) for f in files or () if f.filename]
    try:
        text, checked = check_material(text, incoming)
    except FieldsRefused as exc:
        return JSONResponse({"detail": error_list(exc.errors, language, "value_error")}, 422)
    supplement(work, case, "web", text, checked)
    return SupplementAccepted(
        tracking_no=case.tracking_no, status=case.status, attachments=len(checked)
    )


@router.post(
    "/api/v1/cases/{tracking_no}/rating",
    status_code=201,
    response_model=RatingAccepted,
    responses={**_RESPONSES, 409: {"description": "Not resolved yet, or already rated"}},
)
def rate_case(
    tracking_no: str,
    body: RatingIn,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
    request: Request,
) -> RatingAccepted | JSONResponse:
    """Rate a resolved case: satisfied, basically-satisfied or dissatisfied, with a comment."""
    language = preferred_language(request.headers.get("accept-language"))
    client = request.client.host if request.client else None
    refusal = limits.check_lookup(client)
    if refusal is not None:
        return too_many(refusal, language)
    case = find_case(work, tracking_no, body.access_code, settings.secret_key)
    if case is None:
        limits.failed_lookup(client)
        raise HTTPException(404, _NOT_FOUND)
    try:
        rated_at = ratings.rate(work, case, "web", body.rating, body.comment or None)
    except ratings.CannotRate as exc:
        return JSONResponse({"detail": error_list({"rating": exc}, language, exc.reason)}, 409)
    return RatingAccepted(tracking_no=case.tracking_no, rating=body.rating, rated_at=rated_at)
