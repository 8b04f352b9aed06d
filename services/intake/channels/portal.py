"""The web portal's pages: submit a case, keep its receipt, track it, add material, rate it.

Forms post back to the page that shows them and use the same rules as the JSON API (the web
channel's `CaseIn`, `accept_once`, the rate limits, `follow_up`, `ratings`). Each form carries a
CSRF token tied to a SameSite cookie; the submission form also carries an idempotency key, so a
double click or a re-sent form gives the first case back, never a second one. After a correct
lookup, a short-lived sealed cookie, scoped to that case's path, keeps the citizen "signed in".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from services.intake import attachments, domain, messages, ratings
from services.intake.attachments import AttachmentRefused, CheckedFile, IncomingFile, check_files
from services.intake.channels.web import CaseIn
from services.intake.deps import IntakeWork, Limits
from services.intake.follow_up import (
    MAX_TEXT_LENGTH,
    UPLOAD_BODY_BYTES,
    CaseClosed,
    FieldsRefused,
    RatingChoice,
    accepts_material,
    check_material,
    find_case,
)
from services.intake.idempotency import IdempotencyKeyReused, accept_once
from services.intake.models import Attachment, Case, CatalogueCategory, Rating, Resolution
from services.intake.submissions import Submission
from services.intake.supplements import supplement
from services.kernel.config import Settings
from services.kernel.events.contracts import Kind, Location
from services.kernel.http import SettingsDep, allow_body, field_errors
from services.kernel.language import InvalidValue, Language
from services.kernel.pages import Pages, page_language
from services.kernel.sealing import Unsealable, sealer_for
from services.kernel.work import Work
from services.kernel.workdays import LOCAL_TZ

router = APIRouter(tags=["intake"], include_in_schema=False)
pages = Pages(Path(__file__).resolve().parent.parent / "templates")

CASE_COOKIE = "minqing_case"
RECEIPT_COOKIE = "minqing_receipt"
CSRF_COOKIE = "minqing_csrf"
CSRF_FIELD = "csrf_token"
# Long enough to read the timeline and add material, short enough for a shared computer.
CASE_SESSION_SECONDS = 30 * 60
RECEIPT_SECONDS = 30 * 60
_SESSION_PURPOSE = "portal-case-session"
_RECEIPT_PURPOSE = "portal-receipt"
_IDEMPOTENCY_PREFIX = "portal:"
# Far more parts than a real form sends; the count of files proper is checked with the files.
_MAX_PARTS = 50

# The kinds a citizen picks on the main form; a tip-off has its own page.
KINDS: tuple[tuple[Kind, str, str], ...] = (
    ("complaint", "投诉", "Complaint"),
    ("help", "求助", "Request for help"),
    ("consultation", "咨询", "Question"),
    ("suggestion", "建议", "Suggestion"),
    ("praise", "表扬", "Praise"),
)
_KIND_LABELS: dict[str, tuple[str, str]] = {kind: (zh, en) for kind, zh, en in KINDS}
_KIND_LABELS["tip-off"] = ("举报", "Tip-off")
_STATUS_EN = {
    "received": "Received",
    "awaiting_dispatch": "Awaiting dispatch",
    "dispatched": "Passed to a department",
    "resolved": "Resolved",
    "answered": "Answered on the spot",
    "supplemented": "Material added",
    "material_requested": "Material needed",
    "extended": "Deadline extended",
    "rated": "Rated",
}
RATING_LABELS = {
    "satisfied": ("满意", "Satisfied"),
    "basically-satisfied": ("基本满意", "Basically satisfied"),
    "dissatisfied": ("不满意", "Dissatisfied"),
}
# How the error summary names each field, so "required" twice still says which.
_FIELD_LABELS = {
    "kind": ("诉求类型", "Type"),
    "category": ("问题类别", "Category"),
    "description": ("详细描述", "Description"),
    "location.address": ("地址", "Address"),
    "location": ("位置坐标", "Map point"),
    "location.lat": ("纬度", "Latitude"),
    "location.lon": ("经度", "Longitude"),
    "contact": ("联系方式", "Contact"),
    "contact.name": ("姓名", "Name"),
    "contact.phone": ("手机号码", "Mobile number"),
    "contact.email": ("电子邮箱", "Email"),
    "files": ("附件", "Files"),
    "tracking_no": ("编号", "Tracking number"),
    "access_code": ("查询码", "Access code"),
}
_CONTACT = ("name", "phone", "email")
_TRACKING_NO = re.compile(r"^[0-9]{8}-[0-9]{6}$")
# What the forms tell the citizen before they choose files; the server checks the same limits.
_UPLOAD_LIMITS = {
    "files": attachments.MAX_FILES,
    "file_mb": attachments.MAX_FILE_BYTES // (1024 * 1024),
    "file_bytes": attachments.MAX_FILE_BYTES,
    "total_mb": attachments.MAX_TOTAL_BYTES // (1024 * 1024),
    "total_bytes": attachments.MAX_TOTAL_BYTES,
    "types": ", ".join(e.lstrip(".") for e in attachments.ALLOWED_EXTENSIONS),
    "accept": ",".join(attachments.ALLOWED_EXTENSIONS),
    "text": MAX_TEXT_LENGTH,
    "comment": ratings.MAX_COMMENT_LENGTH,
}

_STALE_FORM = InvalidValue(
    "this page had expired, so nothing was sent; please check and send it again",
    "页面已过期，内容未提交，请核对后重新提交",
)
_ALREADY_SENT = InvalidValue(
    "this form was already sent with different content; check it and send it again to "
    "submit a new case",
    "该表单已提交过且内容不同；如需提交新的诉求，请核对后再次提交",
)
_NOT_FOUND = InvalidValue(
    "no case matches that tracking number and access code; check both and try again",
    "编号或查询码不正确，请核对后重试",
)


@dataclass(frozen=True)
class Posted:
    """A submitted form: its text fields (first value of each) and the files chosen."""

    fields: dict[str, str]
    files: list[IncomingFile]

    def text(self, name: str) -> str | None:
        value = self.fields.get(name, "").strip()
        return value or None


async def posted_form(request: Request) -> Posted:
    form = await request.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS)
    fields: dict[str, str] = {}
    files: list[IncomingFile] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            # A file input left empty still sends a part, with no name and no bytes.
            if value.filename:
                files.append(IncomingFile(value.filename, await value.read()))
        else:
            fields.setdefault(name, value)
    await form.close()
    return Posted(fields, files)


PostedForm = Annotated[Posted, Depends(posted_form)]


# --- the submission form ------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def submission_form(request: Request, work: IntakeWork, settings: SettingsDep) -> Response:
    return _form_page(request, work, settings, tip_off=False)


@router.get("/tip-off", response_class=HTMLResponse)
def tip_off_form(request: Request, work: IntakeWork, settings: SettingsDep) -> Response:
    return _form_page(request, work, settings, tip_off=True)


@router.post("/", response_class=HTMLResponse)
@allow_body(UPLOAD_BODY_BYTES)
def submit(
    request: Request, posted: PostedForm, work: IntakeWork, settings: SettingsDep, limits: Limits
) -> Response:
    return _submit(request, posted, work, settings, limits, tip_off=False)


@router.post("/tip-off", response_class=HTMLResponse)
@allow_body(UPLOAD_BODY_BYTES)
def submit_tip_off(
    request: Request, posted: PostedForm, work: IntakeWork, settings: SettingsDep, limits: Limits
) -> Response:
    return _submit(request, posted, work, settings, limits, tip_off=True)


def case_payload(posted: Posted, tip_off: bool) -> dict[str, Any]:
    """The form's fields in the JSON API's shape; a field left empty is left out."""
    payload: dict[str, Any] = {
        name: value
        for name in ("description", "kind", "category")
        if (value := posted.text(name)) is not None
    }
    if tip_off:
        payload["kind"] = "tip-off"
    for group, names in (("location", ("address", "lat", "lon")), ("contact", _CONTACT)):
        values = {n: v for n in names if (v := posted.text(f"{group}.{n}")) is not None}
        # No location is fine; no contact at all gets the API's "how do we reply" error, except
        # on a tip-off, whose reporter may stay anonymous.
        if values or (group == "contact" and not tip_off):
            payload[group] = values
    return payload


def _submit(
    request: Request,
    posted: Posted,
    work: Work,
    settings: Settings,
    limits: Limits,
    *,
    tip_off: bool,
) -> Response:
    language = page_language(request)

    def again(errors: Mapping[str, InvalidValue | str], status: int) -> Response:
        return _form_page(
            request, work, settings, tip_off=tip_off, posted=posted, errors=errors, status=status
        )

    if not _csrf_ok(request, posted, settings.secret_key):
        return again({"form": _STALE_FORM}, 403)
    errors: dict[str, InvalidValue | str] = {}
    body: CaseIn | None = None
    try:
        body = CaseIn.model_validate(case_payload(posted, tip_off))
    except ValidationError as exc:
        errors.update((e["field"], e["message"]) for e in field_errors(exc.errors(), language))
    files: list[CheckedFile] = []
    try:
        files = check_files(posted.files)
    except AttachmentRefused as exc:
        errors["files"] = exc
    if errors or body is None:
        return again(errors, 422)
    client = request.client.host if request.client else None
    refusal = limits.check(client, body.contact_given.phone)
    if refusal is not None:
        response = again({"form": refusal.message(language)}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    submission = Submission(
        channel="web",
        kind=body.kind,
        description=body.description,
        category=body.category,
        location=Location(**body.location.model_dump()) if body.location else None,
        contact=body.contact_given,
        language=language,
        files=files,
    )
    key = posted.text("idempotency_key")
    try:
        receipt, _ = accept_once(
            work,
            submission,
            settings.secret_key,
            _IDEMPOTENCY_PREFIX + key if key and len(key) <= 128 else None,
        )
    except IdempotencyKeyReused:
        return again({"form": _ALREADY_SENT}, 409)
    response = RedirectResponse("/confirmation", status_code=303)
    sealed = _seal(
        settings.secret_key,
        _RECEIPT_PURPOSE,
        {
            "no": receipt.tracking_no,
            "code": receipt.access_code,
            "promised": receipt.promised_date.isoformat(),
            "kind": submission.kind,
        },
        RECEIPT_SECONDS,
    )
    _set_cookie(request, response, RECEIPT_COOKIE, sealed, "/confirmation", RECEIPT_SECONDS)
    _sign_in(request, response, settings.secret_key, receipt.tracking_no)
    return response


def _form_page(
    request: Request,
    work: Work,
    settings: Settings,
    *,
    tip_off: bool,
    posted: Posted | None = None,
    errors: Mapping[str, InvalidValue | str] | None = None,
    status: int = 200,
) -> Response:
    language = page_language(request)
    categories = work.session.execute(
        select(CatalogueCategory.category, CatalogueCategory.department_name_en).order_by(
            CatalogueCategory.position
        )
    ).all()
    return _render(
        request,
        settings,
        "portal/form.html",
        {
            "tip_off": tip_off,
            "action": "/tip-off" if tip_off else "/",
            "kinds": [(kind, zh if language == "zh" else en) for kind, zh, en in KINDS],
            "categories": [
                (name, name if language == "zh" else f"{name} ({department})")
                for name, department in categories
            ],
            "values": posted.fields if posted else {},
            "files_dropped": bool(posted and posted.files),
            "errors": _messages(errors or {}, language),
            # A fresh key for every form shown: a new case after a refused one is a new case.
            "idempotency_key": secrets.token_urlsafe(24),
            "limits": _UPLOAD_LIMITS,
        },
        status,
    )


# --- the receipt ---------------------------------------------------------------------------------


@router.get("/confirmation", response_class=HTMLResponse)
def confirmation(request: Request, settings: SettingsDep) -> Response:
    """What the citizen needs to follow the case, from the receipt cookie the submission set."""
    receipt = _open(settings.secret_key, _RECEIPT_PURPOSE, request.cookies.get(RECEIPT_COOKIE))
    if receipt is None:
        return _render(request, settings, "portal/confirmation.html", {"receipt": None}, 404)
    language = page_language(request)
    return _render(
        request,
        settings,
        "portal/confirmation.html",
        {
            "receipt": receipt,
            "tip_off": receipt["kind"] == "tip-off",
            "promised": _date(date.fromisoformat(receipt["promised"]), language),
        },
    )


# --- tracking ------------------------------------------------------------------------------------


@router.get("/track", response_class=HTMLResponse)
def lookup_form(request: Request, settings: SettingsDep) -> Response:
    number = request.query_params.get("no", "")
    values = {"tracking_no": number if _TRACKING_NO.match(number) else ""}
    return _render(request, settings, "portal/track.html", {"values": values, "errors": {}})


@router.post("/track", response_class=HTMLResponse)
def lookup(
    request: Request, posted: PostedForm, work: IntakeWork, settings: SettingsDep, limits: Limits
) -> Response:
    """Tracking number and access code in a POST body, so the code stays out of URLs and logs."""
    language = page_language(request)

    def again(errors: Mapping[str, InvalidValue | str], status: int) -> Response:
        values = {"tracking_no": posted.fields.get("tracking_no", "")}
        context = {"values": values, "errors": _messages(errors, language)}
        return _render(request, settings, "portal/track.html", context, status)

    if not _csrf_ok(request, posted, settings.secret_key):
        return again({"form": _STALE_FORM}, 403)
    client = request.client.host if request.client else None
    refusal = limits.check_lookup(client)
    if refusal is not None:
        response = again({"form": refusal.message(language)}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    tracking_no, access_code = posted.text("tracking_no"), posted.text("access_code")
    missing = InvalidValue("Field required", "必须填写")
    if tracking_no is None or access_code is None:
        errors = {
            name: missing
            for name, value in (("tracking_no", tracking_no), ("access_code", access_code))
            if value is None
        }
        return again(errors, 422)
    case = find_case(work, tracking_no[:20], access_code[:32], settings.secret_key)
    if case is None:
        limits.failed_lookup(client)
        return again({"form": _NOT_FOUND}, 404)
    response = RedirectResponse(f"/track/{case.tracking_no}", status_code=303)
    _sign_in(request, response, settings.secret_key, case.tracking_no)
    return response


@router.get("/track/{tracking_no}", response_class=HTMLResponse)
def case_page(
    tracking_no: str, request: Request, work: IntakeWork, settings: SettingsDep
) -> Response:
    case = _signed_in_case(request, work, settings, tracking_no)
    if case is None:
        return _to_lookup(tracking_no)
    return _case_page(request, work, settings, case)


@router.post("/track/{tracking_no}/material", response_class=HTMLResponse)
@allow_body(UPLOAD_BODY_BYTES)
def add_material(
    tracking_no: str,
    request: Request,
    posted: PostedForm,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
) -> Response:
    language = page_language(request)
    case = _signed_in_case(request, work, settings, tracking_no)
    if case is None:
        return _to_lookup(tracking_no)

    def again(errors: Mapping[str, InvalidValue | str], status: int) -> Response:
        return _case_page(
            request, work, settings, case, posted=posted, errors=errors, status=status
        )

    if not _csrf_ok(request, posted, settings.secret_key):
        return again({"material": _STALE_FORM}, 403)
    if not accepts_material(case.status):
        return again({"material": CaseClosed()}, 409)
    client = request.client.host if request.client else None
    refusal = limits.check(client, None)
    if refusal is not None:
        response = again({"material": refusal.message(language)}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        text, files = check_material(posted.fields.get("text", ""), posted.files)
    except FieldsRefused as exc:
        return again(dict(exc.errors), 422)
    supplement(work, case, "web", text, files)
    return RedirectResponse(f"/track/{case.tracking_no}?sent=material", status_code=303)


@router.post("/track/{tracking_no}/rating", response_class=HTMLResponse)
def rate(
    tracking_no: str, request: Request, posted: PostedForm, work: IntakeWork, settings: SettingsDep
) -> Response:
    language = page_language(request)
    case = _signed_in_case(request, work, settings, tracking_no)
    if case is None:
        return _to_lookup(tracking_no)

    def again(errors: Mapping[str, InvalidValue | str], status: int) -> Response:
        return _case_page(
            request, work, settings, case, posted=posted, errors=errors, status=status
        )

    if not _csrf_ok(request, posted, settings.secret_key):
        return again({"rating": _STALE_FORM}, 403)
    fields = {
        name: value for name in ("rating", "comment") if (value := posted.text(name)) is not None
    }
    try:
        choice = RatingChoice.model_validate(fields)
    except ValidationError as exc:
        return again({e["field"]: e["message"] for e in field_errors(exc.errors(), language)}, 422)
    try:
        ratings.rate(work, case, "web", choice.rating, choice.comment)
    except ratings.CannotRate as exc:
        return again({"rating": exc}, 409)
    return RedirectResponse(f"/track/{case.tracking_no}?sent=rating", status_code=303)


@router.post("/track/{tracking_no}/leave", response_class=HTMLResponse)
def leave(tracking_no: str) -> Response:
    """Forget the case on this browser (a shared or borrowed phone)."""
    response = RedirectResponse("/track", status_code=303)
    response.delete_cookie(CASE_COOKIE, path=f"/track/{tracking_no}")
    return response


def _case_page(
    request: Request,
    work: Work,
    settings: Settings,
    case: Case,
    *,
    posted: Posted | None = None,
    errors: Mapping[str, InvalidValue | str] | None = None,
    status: int = 200,
) -> Response:
    language = page_language(request)
    session = work.session
    resolution = session.scalars(
        select(Resolution)
        .where(Resolution.case_id == case.id)
        .order_by(Resolution.resolved_at.desc())
    ).first()
    rating = session.get(Rating, case.id)
    files = session.execute(
        select(Attachment.filename, Attachment.size, Attachment.source, Attachment.received_at)
        .where(Attachment.case_id == case.id)
        .order_by(Attachment.received_at, Attachment.filename)
    ).all()
    response = _render(
        request,
        settings,
        "portal/case.html",
        {
            "case": case,
            "status_label": _status(case.status, language),
            "kind_label": _pick(_KIND_LABELS.get(case.kind, (case.kind, case.kind)), language),
            "promised": _date(case.promised_date, language),
            "submitted": _moment(case.submitted_at),
            "timeline": [
                {
                    "status": entry.status,
                    "label": _status(entry.status, language),
                    "at": _moment(entry.occurred_at),
                    "note": entry.note,
                }
                for entry in case.timeline
            ],
            "messages": [
                {
                    "label": _pick(
                        messages.CITIZEN_TEMPLATES.get(m.template, (m.template,) * 2), language
                    ),
                    "channel": _pick(
                        messages.CHANNEL_LABELS.get(m.channel, (m.channel,) * 2), language
                    ),
                    "at": _moment(m.sent_at or m.status_at),
                    "status": m.status,
                    "status_label": _pick(messages.STATUS_LABELS[m.status], language),
                }
                for m in messages.of_case(session, case.id)
            ],
            "resolution": resolution
            and {
                "department": resolution.department_name,
                "reply": resolution.reply,
                "at": _moment(resolution.resolved_at),
            },
            "rating": rating
            and {
                "label": _pick(RATING_LABELS[rating.rating], language),
                "comment": rating.comment,
            },
            "ratings": [
                (value, _pick(labels, language)) for value, labels in RATING_LABELS.items()
            ],
            "can_rate": ratings.may_rate(case.status) and rating is None,
            "can_add": accepts_material(case.status),
            "files": [
                {
                    "name": row.filename,
                    "size": _size(row.size),
                    "later": row.source == "supplement",
                    "at": _moment(row.received_at),
                }
                for row in files
            ],
            "sent": request.query_params.get("sent"),
            "values": posted.fields if posted else {},
            "files_dropped": bool(posted and posted.files),
            "errors": _messages(errors or {}, language),
            "limits": _UPLOAD_LIMITS,
        },
        status,
    )
    # Every view renews the session, so a citizen reading the page is not signed out mid-way.
    _sign_in(request, response, settings.secret_key, case.tracking_no)
    return response


def _signed_in_case(
    request: Request, work: Work, settings: Settings, tracking_no: str
) -> Case | None:
    session = _open(settings.secret_key, _SESSION_PURPOSE, request.cookies.get(CASE_COOKIE))
    if session is None or session.get("no") != tracking_no:
        return None
    return work.session.scalars(select(Case).where(Case.tracking_no == tracking_no)).first()


def _sign_in(request: Request, response: Response, secret_key: str, tracking_no: str) -> None:
    sealed = _seal(secret_key, _SESSION_PURPOSE, {"no": tracking_no}, CASE_SESSION_SECONDS)
    _set_cookie(
        request, response, CASE_COOKIE, sealed, f"/track/{tracking_no}", CASE_SESSION_SECONDS
    )


def _to_lookup(tracking_no: str) -> Response:
    """To the lookup form, the number filled in when it looks like one."""
    query = f"?no={tracking_no}" if _TRACKING_NO.match(tracking_no) else ""
    return RedirectResponse(f"/track{query}", status_code=303)


# --- what every page shares ----------------------------------------------------------------------


def _render(
    request: Request,
    settings: Settings,
    template: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> Response:
    """A portal page: private, never cached, framed by nobody, its one script allowed by nonce."""
    csrf = request.cookies.get(CSRF_COOKIE)
    fresh = csrf is None or not 20 <= len(csrf) <= 64
    if fresh:
        csrf = secrets.token_urlsafe(32)
    assert csrf is not None
    nonce = secrets.token_urlsafe(16)
    response = pages.render(
        request,
        template,
        {
            **context,
            "csrf": _csrf_token(settings.secret_key, csrf),
            "nonce": nonce,
            "labels": {
                f: _pick(names, page_language(request)) for f, names in _FIELD_LABELS.items()
            },
        },
        status_code=status,
    )
    if fresh:
        _set_cookie(request, response, CSRF_COOKIE, csrf, "/", None)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, path: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _csrf_token(secret_key: str, cookie: str) -> str:
    return hmac.new(
        secret_key.encode(), b"portal-csrf:" + cookie.encode(), hashlib.sha256
    ).hexdigest()


def _csrf_ok(request: Request, posted: Posted, secret_key: str) -> bool:
    """The form came from one of our pages in this browser: its token matches the cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE)
    token = posted.fields.get(CSRF_FIELD, "")
    return cookie is not None and hmac.compare_digest(token, _csrf_token(secret_key, cookie))


def _seal(secret_key: str, purpose: str, value: dict[str, str], seconds: int) -> str:
    return sealer_for(secret_key, purpose).seal(
        json.dumps({**value, "exp": int(time.time()) + seconds})
    )


def _open(secret_key: str, purpose: str, sealed: str | None) -> dict[str, str] | None:
    """What a cookie sealed, unless it is missing, tampered with or expired."""
    if not sealed:
        return None
    try:
        value: dict[str, Any] = json.loads(sealer_for(secret_key, purpose).open(sealed))
    except (Unsealable, ValueError):
        return None
    if int(value.pop("exp", 0)) < time.time():
        return None
    return {k: str(v) for k, v in value.items()}


def _messages(errors: Mapping[str, InvalidValue | str], language: Language) -> dict[str, str]:
    """Each field's message in `language`, in the order the form shows the fields."""
    order = {field: place for place, field in enumerate(_FIELD_LABELS)}
    return {
        field: error.text(language) if isinstance(error, InvalidValue) else error
        for field, error in sorted(errors.items(), key=lambda item: order.get(item[0], -1))
    }


def _pick(labels: Sequence[str], language: Language) -> str:
    return labels[0] if language == "zh" else labels[1]


def _status(status: str, language: Language) -> str:
    zh = domain.STATUS_LABELS.get(status, status)
    return zh if language == "zh" else _STATUS_EN.get(status, status.replace("_", " "))


def _date(day: date, language: Language) -> str:
    return (
        f"{day.year}年{day.month}月{day.day}日"
        if language == "zh"
        else f"{day.day} {day:%B} {day.year}"
    )


def _moment(at: datetime) -> str:
    return f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"
