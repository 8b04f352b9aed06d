"""Notify's Celery tasks: thin, taking ids, with retries declared on the task."""

from __future__ import annotations

import uuid

from services.kernel.runtime import ServiceRuntime
from services.notify.gateways import GatewayError, gateway_from_url
from services.notify.sending import deliver, stale_message_ids

SEND_MESSAGE = "notify.send_message"


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None
    gateway = gateway_from_url(runtime.settings.sms_gateway)

    @runtime.celery.task(  # type: ignore[untyped-decorator]
        name=SEND_MESSAGE,
        autoretry_for=(GatewayError,),
        retry_backoff=2,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=10,
    )
    def send_message(message_id: str) -> None:
        deliver(runtime.work, gateway, uuid.UUID(message_id))

    def requeue_stale() -> None:
        for message_id in stale_message_ids(runtime.work):
            send_message.delay(message_id)

    runtime.every(15, requeue_stale, "notify-requeue-stale")
