"""Notify's Celery tasks: thin, taking ids, with retries declared on the task."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from services.kernel.runtime import ServiceRuntime
from services.notify.gateways import GatewayError, gateway_from_url
from services.notify.gateways.email import email_gateway_from_url
from services.notify.receipts import EXPIRY_BATCH, WorkListener, expire_overdue
from services.notify.scheduling import release_due
from services.notify.sending import (
    GIVE_UP_BATCH,
    STALE_AFTER,
    deliver,
    give_up_undelivered,
    stale_message_ids,
)
from services.notify.task_names import SEND_MESSAGES

__all__ = ["SEND_MESSAGES", "register_tasks"]

# Messages per task when re-queueing: small enough that one retry repeats little.
REQUEUE_CHUNK = 50
RELEASE_SECONDS = 10
# How often to look for messages whose delivery receipt is overdue.
RECEIPT_SWEEP_SECONDS = 10


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None
    gateway = gateway_from_url(
        runtime.settings.sms_gateway, secret=runtime.settings.sms_gateway_secret
    )
    email_gateway = email_gateway_from_url(runtime.settings.email_gateway)

    @runtime.celery.task(  # type: ignore[untyped-decorator]
        name=SEND_MESSAGES,
        autoretry_for=(GatewayError,),
        retry_backoff=2,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=10,
    )
    def send_messages(*message_ids: str) -> None:
        deliver(runtime.work, gateway, [uuid.UUID(i) for i in message_ids], email_gateway)

    def requeue(older_than: timedelta) -> None:
        for chunk in _chunks(stale_message_ids(runtime.work, older_than), REQUEUE_CHUNK):
            send_messages.delay(*chunk)

    # At start-up every queued message may have lost its task with the previous process; a
    # second task for one still in flight is harmless, since sending is idempotent.
    requeue(timedelta(0))

    def requeue_or_give_up() -> None:
        while give_up_undelivered(runtime.work) == GIVE_UP_BATCH:
            pass
        requeue(STALE_AFTER)

    runtime.every(15, requeue_or_give_up, "notify-requeue-stale")

    def release() -> None:
        for chunk in _chunks(release_due(runtime.work), REQUEUE_CHUNK):
            send_messages.delay(*chunk)

    # Messages held for the quiet hours or merged into a digest, sent when their time comes.
    runtime.every(RELEASE_SECONDS, release, "notify-release-held")
    # Receipts and replies that come by the gateway's own link (SMPP); HTTP ones come to the API.
    gateway.start(WorkListener(runtime.work))
    runtime.on_stop(gateway.close)
    runtime.every(RECEIPT_SWEEP_SECONDS, lambda: _expire_all(runtime), "notify-expire-unconfirmed")


def _expire_all(runtime: ServiceRuntime) -> None:
    while expire_overdue(runtime.work) == EXPIRY_BATCH:
        pass


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
