"""The web portal's JSON channel: `POST /api/v1/cases`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.intake import domain
from services.intake.deps import IntakeWork, Limits
from services.intake.idempotency import MAX_KEY_LENGTH, IdempotencyKeyReused, accept_once
from services.intake.limits import Refusal
from services.intake.submissions import Submission
from services.kernel.events.contracts import Contact, Kind, Location
from services.kernel.http import SettingsDep
from services.kernel.language import InvalidValue, Language, preferred_language

router = APIRouter(tags=["intake"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationIn(_Strict):
    address: str | None = Field(default=None, min_length=1, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise InvalidValue(
                "lat and lon go together: give both or neither", "经度和纬度须同时填写或同时留空"
            )
        return self


class ContactIn(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)

    @field_validator("phone")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return None if value is None else domain.normalise_mobile(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else domain.normalise_email(value)

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.phone is None and self.email is None:
            raise InvalidValue(
                "give a mobile phone number or an email address so we can reply",
                "请留下手机号码或电子邮箱，以便我们答复您",
            )
        return self


class CaseIn(_Strict):
    description: str = Field(min_length=1, max_length=5000)
    kind: Kind
    category: str | None = Field(default=None, min_length=1, max_length=64)
    location: LocationIn | None = None
    contact: ContactIn | None = Field(default=None, validate_default=True)

    @field_validator("contact")
    @classmethod
    def _reachable_unless_anonymous(
        cls, value: ContactIn | None, info: ValidationInfo
    ) -> ContactIn | None:
        # A tip-off may stay anonymous: its access code alone tracks it. Anything else needs a
        # way for us to reply.
        if value is None and info.data.get("kind") != "tip-off":
            raise InvalidValue(
                "give a mobile phone number or an email address so we can reply",
                "请留下手机号码或电子邮箱，以便我们答复您",
            )
        return value

    @property
    def contact_given(self) -> Contact:
        return Contact(**self.contact.model_dump()) if self.contact else Contact()


class CaseAccepted(BaseModel):
    tracking_no: str
    access_code: str
    status: str
    promised_date: date


@router.post(
    "/api/v1/cases",
    status_code=201,
    response_model=CaseAccepted,
    responses={
        422: {"description": "A field is invalid, or the Idempotency-Key was reused"},
        429: {"description": "Too many submissions from this address or phone number"},
    },
)
def submit_case(
    body: CaseIn,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH),
    ] = None,
) -> CaseAccepted | JSONResponse:
    """A citizen's case from the web portal; the answer carries what they need to track it.

    With an `Idempotency-Key`, sending the same submission again (a retry after a lost answer)
    returns the first answer, marked `Idempotent-Replayed: true`, instead of a second case.
    """
    language = preferred_language(request.headers.get("accept-language"))
    client = request.client.host if request.client else None
    refusal = limits.check(client, body.contact_given.phone)
    if refusal is not None:
        return too_many(refusal, language)
    submission = Submission(
        channel="web",
        kind=body.kind,
        description=body.description,
        category=body.category,
        location=Location(**body.location.model_dump()) if body.location else None,
        contact=body.contact_given,
    )
    try:
        receipt, replayed = accept_once(work, submission, settings.secret_key, idempotency_key)
    except IdempotencyKeyReused as exc:
        return key_reused(exc, language)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CaseAccepted(
        tracking_no=receipt.tracking_no,
        access_code=receipt.access_code,
        status=receipt.status,
        promised_date=receipt.promised_date,
    )


def key_reused(exc: IdempotencyKeyReused, language: Language) -> JSONResponse:
    """The 422 for an Idempotency-Key already used with a different submission."""
    error = {
        "field": "Idempotency-Key",
        "message": exc.text(language),
        "type": "idempotency_key_reused",
    }
    return JSONResponse({"detail": [error]}, status_code=422)


def too_many(refusal: Refusal, language: Language) -> JSONResponse:
    error = {"field": refusal.field, "message": refusal.message(language), "type": "rate_limited"}
    return JSONResponse(
        {"detail": [error]},
        status_code=429,
        headers={"Retry-After": str(refusal.retry_after)},
    )
