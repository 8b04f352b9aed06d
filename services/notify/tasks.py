"""Notify's Celery tasks: thin, taking ids, with retries declared on the task."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.kernel.runtime import ServiceRuntime
from services.notify.gateways import GatewayError, gateway_from_url
from services.notify.sending import STALE_AFTER, deliver, stale_message_ids

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

    def requeue(older_than: timedelta) -> None:
        for message_id in stale_message_ids(runtime.work, older_than):
            send_message.delay(message_id)

    # At start-up every queued message may have lost its task with the previous process; a
    # second task for one still in flight is harmless, since sending is idempotent.
    requeue(timedelta(0))
    runtime.every(15, lambda: requeue(STALE_AFTER), "notify-requeue-stale")
