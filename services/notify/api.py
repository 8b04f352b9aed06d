"""Notify's HTTP API: where an HTTP SMS provider reports receipts and citizens' replies.

Both endpoints take JSON signed as the gateway signs its own requests (see
`services.notify.gateways.http`): a request with a wrong or stale signature gets 401. The
receipts endpoint takes up to 1000 receipts per request, applied in one transaction.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.kernel.clock import utcnow
from services.kernel.http import unit_of_work_for
from services.kernel.work import Work
from services.notify.gateways import DeliveryReceipt, InboundSms
from services.notify.gateways.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_is_valid
from services.notify.receipts import apply_receipts
from services.notify.replies import take_reply

NotifyWork = Annotated[Work, Depends(unit_of_work_for("notify"), scope="function")]
# Seconds after which a provider should post receipts again that named parts not yet recorded.
RETRY_AFTER = "5"


async def _signed_body(request: Request) -> bytes:
    body = await request.body()
    secret: str = request.app.state.settings.sms_gateway_secret
    valid = signature_is_valid(
        secret,
        request.headers.get(TIMESTAMP_HEADER),
        body,
        request.headers.get(SIGNATURE_HEADER),
        time.time(),
    )
    if not valid:
        raise HTTPException(401, "bad or missing signature")
    return body


SignedBody = Annotated[bytes, Depends(_signed_body)]


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ref: str = Field(min_length=1, max_length=100, description="the provider's id of the part")
    status: Literal["delivered", "failed", "expired"]
    reason: str | None = Field(default=None, max_length=400)


class ReceiptsIn(BaseModel):
    receipts: list[ReceiptIn] = Field(max_length=1000)


class InboundIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    sender: str = Field(alias="from", min_length=3, max_length=20)
    text: str = Field(max_length=2000)
    received_at: datetime | None = None
    ref: str | None = Field(default=None, max_length=100)


router = APIRouter(prefix="/api/v1/notify/sms", tags=["notify"])


@router.post("/receipts")
def post_receipts(body: SignedBody, work: NotifyWork, response: Response) -> dict[str, object]:
    """Delivery receipts, applied together; 503 when some name parts not yet recorded.

    The rest are applied all the same: the provider posts again (the whole batch, or only the
    refs in `not_yet_recorded`), and a receipt applied before changes nothing then.
    """
    now = utcnow()
    receipts = [
        DeliveryReceipt(r.ref, r.status, r.reason, now) for r in _parse(ReceiptsIn, body).receipts
    ]
    untaken = apply_receipts(work, receipts)
    if not untaken:
        return {"accepted": len(receipts)}
    response.status_code = 503
    response.headers["Retry-After"] = RETRY_AFTER
    return {
        "detail": "some receipts name parts not yet recorded; send them again",
        "accepted": len(receipts) - len(untaken),
        "not_yet_recorded": sorted({r.gateway_ref for r in untaken}),
    }


@router.post("/inbound")
def post_inbound(body: SignedBody, work: NotifyWork) -> dict[str, str]:
    """A citizen's reply (MO)."""
    sms = _parse(InboundIn, body)
    take_reply(
        work,
        InboundSms(
            sender=sms.sender,
            text=sms.text,
            received_at=sms.received_at or utcnow(),
            gateway_ref=sms.ref,
        ),
    )
    return {"status": "accepted"}


Model = TypeVar("Model", bound=BaseModel)


def _parse(model: type[Model], body: bytes) -> Model:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, exc.errors(include_url=False, include_input=False)) from exc


routers = [router]
