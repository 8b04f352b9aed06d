"""The messages sent to a citizen, on their case's timeline with their delivery status."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services import intake, notify
from services.intake.messages import MessageUpdate, of_case, write
from services.intake.models import CaseMessage
from services.intake.submissions import Receipt
from services.kernel.auth import Staff, mint_token
from services.kernel.config import Settings, load_settings
from services.kernel.events import Envelope
from services.kernel.events.contracts import MessageDelivered, MessageFailed, MessageSent
from services.kernel.migrations import upgrade
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import accept_cases, publish_envelopes, start_runtimes, wait_until

pytestmark = pytest.mark.integration

PHONE = "13812345678"


def sent(receipt: Receipt, message_id: uuid.UUID, template: str = "case_received") -> Envelope:
    return MessageSent(
        message_id=message_id,
        case_id=receipt.case_id,
        tracking_no=receipt.tracking_no,
        template=template,
        channel="sms",
        segments=1,
    ).envelope(producer="notify", case_id=receipt.case_id)


def delivered(receipt: Receipt, message_id: uuid.UUID, template: str) -> Envelope:
    return MessageDelivered(
        message_id=message_id,
        case_id=receipt.case_id,
        tracking_no=receipt.tracking_no,
        template=template,
        channel="sms",
        delivered_at=datetime.now(UTC),
    ).envelope(producer="notify", case_id=receipt.case_id)


def failed(receipt: Receipt, message_id: uuid.UUID, template: str, status: str) -> Envelope:
    return MessageFailed.model_validate(
        {
            "message_id": message_id,
            "case_id": receipt.case_id,
            "tracking_no": receipt.tracking_no,
            "template": template,
            "channel": "sms",
            "status": status,
            "reason": "UNDELIV err:001",
            "failed_at": datetime.now(UTC),
        }
    ).envelope(producer="notify", case_id=receipt.case_id)


def kept(runtime: ServiceRuntime, receipt: Receipt) -> dict[uuid.UUID, tuple[str, bool]]:
    """Each kept message's status, and whether its send time is known."""
    with runtime.database.session() as session:
        rows = session.scalars(select(CaseMessage).where(CaseMessage.case_id == receipt.case_id))
        return {row.message_id: (row.status, row.sent_at is not None) for row in rows}


def test_each_message_ends_with_its_last_status_whatever_order_its_events_arrive_in(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    [runtime] = start_runtimes(settings, running, intake.SERVICE)
    [receipt] = accept_cases(runtime, settings.secret_key, 1)
    received, dispatched, resolved, to_staff = (uuid.uuid4() for _ in range(4))
    receipt_first = delivered(receipt, received, "case_received")

    # One go, likely one batch: a receipt ahead of its send, and the same receipt redelivered.
    publish_envelopes(
        settings.broker_url,
        [
            receipt_first,
            sent(receipt, received),
            receipt_first,
            sent(receipt, dispatched, "case_dispatched"),
            failed(receipt, dispatched, "case_dispatched", "failed"),
            sent(receipt, to_staff, "work_order_arrived"),
        ],
    )
    expected = {received: ("delivered", True), dispatched: ("failed", True)}
    wait_until(lambda: kept(runtime, receipt) == expected, 20)

    # Across batches, so the rule holds in the database too: the late send keeps the expiry.
    publish_envelopes(settings.broker_url, [failed(receipt, resolved, "case_resolved", "expired")])
    wait_until(lambda: kept(runtime, receipt).get(resolved) == ("expired", False), 20)
    publish_envelopes(settings.broker_url, [sent(receipt, resolved, "case_resolved")])
    wait_until(lambda: kept(runtime, receipt).get(resolved) == ("expired", True), 20)
    assert to_staff not in kept(runtime, receipt)

    client = TestClient(build_app([runtime]), follow_redirects=False)
    view = client.get(
        f"/api/v1/cases/{receipt.tracking_no}", params={"access_code": receipt.access_code}
    )
    assert view.status_code == 200
    shown = [(m["template"], m["status"], m["status_label"]) for m in view.json()["messages"]]
    assert shown == [
        ("case_received", "delivered", "已送达"),
        ("case_dispatched", "failed", "发送失败"),
        ("case_resolved", "expired", "未确认送达"),
    ]
    assert view.json()["messages"][0]["label"] == "受理通知"

    operator = mint_token(Staff("op-1", "王丽", frozenset({"operator"})), settings.secret_key)
    for_staff = client.get(
        f"/api/v1/cases/{receipt.tracking_no}/messages",
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert [m["status"] for m in for_staff.json()] == ["delivered", "failed", "expired"]
    assert client.get(f"/api/v1/cases/{receipt.tracking_no}/messages").status_code == 401

    page = case_page(client, receipt)
    listed = re.findall(r'<li class="delivery-(\w+)">.*?<strong>(.+?)</strong>', page.text)
    assert listed == [("delivered", "受理通知"), ("failed", "派单通知"), ("expired", "办结通知")]
    assert "已送达" in page.text
    assert PHONE not in page.text


def case_page(client: TestClient, receipt: Receipt) -> httpx.Response:
    form = client.get("/track")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    signed_in = client.post(
        "/track",
        data={
            "csrf_token": token.group(1),
            "tracking_no": receipt.tracking_no,
            "access_code": receipt.access_code,
        },
    )
    assert signed_in.status_code == 303
    page = client.get(signed_in.headers["location"])
    assert page.status_code == 200
    return page


def test_the_receipt_notice_notify_sends_shows_on_the_case_as_sent(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    intake_runtime, _ = start_runtimes(settings, running, intake.SERVICE, notify.SERVICE)
    [receipt] = accept_cases(intake_runtime, settings.secret_key, 1)

    # The file gateway sends no receipts: the message stays "sent".
    wait_until(lambda: list(kept(intake_runtime, receipt).values()) == [("sent", True)], 30)
    with intake_runtime.database.session() as session:
        [row] = session.scalars(select(CaseMessage).where(CaseMessage.case_id == receipt.case_id))
        assert (row.template, row.channel) == ("case_received", "sms")


def test_a_late_send_keeps_the_delivery_on_the_embedded_database_too(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    case_id, message_id = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    arrived = MessageUpdate(message_id, case_id, "case_received", "sms", None, "delivered", at)
    handed_over = replace(arrived, sent_at=at, status="sent")
    try:
        for update in (arrived, handed_over):
            with runtime.database.session() as session, session.begin():
                write(session, [update])
        with runtime.database.session() as session:
            [row] = of_case(session, case_id)
            assert (row.status, row.sent_at) == ("delivered", at)
    finally:
        runtime.database.dispose()
