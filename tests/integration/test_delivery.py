"""Delivery on PostgreSQL: receipts from SMPP and HTTP settle messages; silence or failure
reaches the citizen by email or puts them on intake's call-back list."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from services import intake, notify
from services.intake.models import Callback, MissedCall
from services.intake.submissions import Submission, accept
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseSubmitted, CitizenUnreachable, Contact
from services.kernel.outbox import outbox
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from services.notify.gateways import (
    DeliveryReceipt,
    Gateway,
    InboundSms,
    ReceiptStatus,
    gateway_from_url,
)
from services.notify.gateways.email import email_gateway_from_url
from services.notify.gateways.http import signature_is_valid, signed_headers
from services.notify.gateways.smpp import SmppGateway
from services.notify.models import (
    CaseContact,
    CaseProgress,
    DeliveryWatch,
    EmailEnvelope,
    Message,
    MessagePart,
)
from services.notify.receipts import WorkListener, expire_overdue
from services.notify.sending import (
    GIVE_UP_AFTER,
    deliver,
    give_up_undelivered,
    record_handover,
    stale_message_ids,
)
from tests.smpp_server import SmppServer
from tests.support import free_port, publish_envelopes, read_sms, wait_until

pytestmark = pytest.mark.integration

GATEWAY_SECRET = "provider-shared-secret"
PHONE = "13800138000"
BLOCKED = "13900000000"
RECEIVED_AT = datetime(2026, 12, 1, 9, 31, tzinfo=UTC)


@pytest.fixture
def notify_runtime(settings: Settings) -> Iterator[ServiceRuntime]:
    settings = dataclasses.replace(settings, sms_gateway_secret=GATEWAY_SECRET)
    runtime = ServiceRuntime(notify.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def smsc() -> Iterator[SmppServer]:
    server = SmppServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smpp(smsc: SmppServer, notify_runtime: ServiceRuntime) -> Iterator[Gateway]:
    gateway = gateway_from_url(f"smpp://minqing:secret@127.0.0.1:{smsc.port}?source=106912345")
    gateway.start(WorkListener(notify_runtime.work))
    yield gateway
    gateway.close()


def queued_sms(
    runtime: ServiceRuntime, *, email: str | None = None, phone: str = PHONE
) -> uuid.UUID:
    """A case's citizen, and a step notice to them waiting to be sent."""
    case_id, message_id = uuid.uuid4(), uuid.uuid4()
    with runtime.work() as work:
        work.session.add(
            CaseContact(case_id=case_id, tracking_no="20261201-000007", phone=phone, email=email)
        )
        work.session.add(
            Message(
                id=message_id,
                event_id=uuid.uuid4(),
                recipient=phone,
                template="case_dispatched",
                channel="sms",
                case_id=case_id,
                tracking_no="20261201-000007",
                text="【民情12345】您的诉求20261201-000007已交县教育局办理，将于12月16日前答复。",
                segments=1,
                status="queued",
                created_at=utcnow(),
            )
        )
    return message_id


def sent_sms(runtime: ServiceRuntime, refs: Sequence[str]) -> uuid.UUID:
    """A step notice to a case's citizen, handed to the gateway as parts known by `refs`."""
    message_id = queued_sms(runtime)
    with runtime.work() as work:
        sent = work.session.get_one(Message, message_id)
        sent.status, sent.sent_at = "sent", utcnow()
        timeout = timedelta(seconds=work.settings.sms_receipt_timeout)
        record_handover(work, [sent], {str(message_id): refs}, timeout)
    return message_id


def message(runtime: ServiceRuntime, message_id: uuid.UUID) -> Message:
    with runtime.database.session() as session:
        found = session.get_one(Message, message_id)
        session.expunge(found)
        return found


def published(runtime: ServiceRuntime, event_type: str) -> list[dict[str, Any]]:
    with runtime.database.session() as session:
        bodies = session.scalars(
            select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        ).all()
    return [json.loads(b)["data"] for b in bodies]


def test_an_smpp_receipt_marks_the_message_delivered_and_says_so_on_the_bus(
    notify_runtime: ServiceRuntime, smpp: Gateway, smsc: SmppServer
) -> None:
    message_id = queued_sms(notify_runtime)

    # The SMSC's receipt comes before the sending commits: it waits for the commit.
    deliver(notify_runtime.work, smpp, [message_id])

    wait_until(lambda: message(notify_runtime, message_id).status == "delivered")
    assert smsc.deliver_answers[-1] == 0
    (delivered,) = published(notify_runtime, "message.delivered")
    assert delivered["message_id"] == str(message_id)
    with notify_runtime.database.session() as session:
        assert session.get(DeliveryWatch, message_id) is None


def test_a_failed_smpp_receipt_keeps_the_reason_and_sends_the_text_by_email(
    notify_runtime: ServiceRuntime, smpp: Gateway, smsc: SmppServer, tmp_path: Path
) -> None:
    smsc.auto_receipt = "UNDELIV"
    message_id = queued_sms(notify_runtime, email="wang.fang@example.com")

    deliver(notify_runtime.work, smpp, [message_id])

    wait_until(lambda: message(notify_runtime, message_id).status == "failed")
    assert message(notify_runtime, message_id).error == "UNDELIV err:000"
    (failed,) = published(notify_runtime, "message.failed")
    assert (failed["status"], failed["reason"]) == ("failed", "UNDELIV err:000")
    with notify_runtime.database.session() as session:
        email = session.scalars(select(Message).where(Message.event_id == message_id)).one()
        assert session.get(EmailEnvelope, email.id) is not None
    outbox_file = tmp_path / "fallback.jsonl"
    deliver(notify_runtime.work, smpp, [email.id], email_gateway_from_url(f"file://{outbox_file}"))
    (sent,) = read_sms(outbox_file)
    assert sent["to"] == "wang.fang@example.com"
    assert sent["text"] == message(notify_runtime, message_id).text
    assert "20261201-000007" in sent["subject"]


def receipt_for(
    ref: str, status: ReceiptStatus = "delivered", reason: str | None = None
) -> DeliveryReceipt:
    return DeliveryReceipt(ref, status, reason, RECEIVED_AT)


def test_a_batch_of_receipts_settles_each_message_once_in_one_transaction(
    notify_runtime: ServiceRuntime,
) -> None:
    whole = sent_sms(notify_runtime, ["w-1", "w-2", "w-3"])
    broken = sent_sms(notify_runtime, ["b-1", "b-2", "b-3"])
    halfway = sent_sms(notify_runtime, ["h-1", "h-2"])
    batch = [
        receipt_for("w-1"),
        receipt_for("b-1"),
        receipt_for("w-2"),
        receipt_for("h-1"),
        receipt_for("w-1"),  # the SMSC repeating itself
        receipt_for("late-1"),  # for a part whose sending has not committed yet
        receipt_for("b-2", "failed", "UNDELIV err:011"),
        receipt_for("w-3"),
        receipt_for("b-3"),  # after its message failed: still recorded, settles nothing
    ]
    listener = WorkListener(notify_runtime.work)
    commits: list[object] = []
    reads: list[str] = []
    engine = notify_runtime.database.engine

    def committed(_conn: object) -> None:
        if threading.current_thread() is threading.main_thread():
            commits.append(_conn)

    def read(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        on_main = threading.current_thread() is threading.main_thread()
        if on_main and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(engine, "commit", committed)
    event.listen(engine, "before_cursor_execute", read)
    try:
        untaken = listener.receipts(batch)
    finally:
        event.remove(engine, "commit", committed)
        event.remove(engine, "before_cursor_execute", read)

    assert untaken == [receipt_for("late-1")]
    assert len(commits) == 1
    # Parts and messages in three reads for the whole batch, not a few per receipt; then each
    # settled message's watch, and the contact of the citizen one failed to reach.
    assert len([r for r in reads if "FROM message" in r]) == 3
    assert len(reads) <= 3 + 2 + 1
    assert message(notify_runtime, whole).status == "delivered"
    failed = message(notify_runtime, broken)
    assert (failed.status, failed.error) == ("failed", "UNDELIV err:011")
    assert message(notify_runtime, halfway).status == "sent"
    with notify_runtime.database.session() as session:
        parts = dict(
            session.execute(select(MessagePart.gateway_ref, MessagePart.status)).tuples().all()
        )
        watched = set(session.scalars(select(DeliveryWatch.message_id)))
    assert parts == {
        **dict.fromkeys(["w-1", "w-2", "w-3", "b-1", "b-3", "h-1"], "delivered"),
        "b-2": "failed",
        "h-2": None,
    }
    assert watched == {halfway}
    assert [d["message_id"] for d in published(notify_runtime, "message.delivered")] == [str(whole)]
    assert [f["message_id"] for f in published(notify_runtime, "message.failed")] == [str(broken)]

    # Asked again, once the late part's sending has committed: it is taken, and what was
    # taken before changes nothing.
    late = sent_sms(notify_runtime, ["late-1"])
    assert listener.receipts(batch) == []
    assert listener.receipts([receipt_for("h-2")]) == []

    delivered = [d["message_id"] for d in published(notify_runtime, "message.delivered")]
    assert sorted(delivered) == sorted(map(str, [whole, late, halfway]))
    assert [f["message_id"] for f in published(notify_runtime, "message.failed")] == [str(broken)]
    assert len(published(notify_runtime, "citizen.unreachable")) == 1


def test_receipts_arriving_together_over_smpp_are_taken_in_one_batch_late_ones_after(
    notify_runtime: ServiceRuntime, smsc: SmppServer
) -> None:
    smsc.auto_receipt = None
    listener = Gated(WorkListener(notify_runtime.work))
    gateway = gateway_from_url(f"smpp://minqing:secret@127.0.0.1:{smsc.port}?source=106912345")
    assert isinstance(gateway, SmppGateway)
    gateway.start(listener)
    try:
        long_id, short_id = queued_sms(notify_runtime), queued_sms(notify_runtime)
        with notify_runtime.work() as work:
            long_text = "【民情12345】" + "您反映的路灯问题已处理完毕，请评价。" * 10
            work.session.get_one(Message, long_id).text = long_text
        deliver(notify_runtime.work, gateway, [long_id, short_id])
        *long_refs, short_ref = [p.message_id for p in smsc.submitted]
        assert len(long_refs) == 3
        listener.open.clear()
        smsc.send_receipt(long_refs[0], "DELIVRD")
        wait_until(lambda: listener.batches == [1])
        for ref in long_refs[1:]:
            smsc.send_receipt(ref, "DELIVRD")
        smsc.send_receipt(long_refs[1], "DELIVRD")
        smsc.send_receipt(short_ref, "UNDELIV")
        smsc.send_receipt("smsc-late", "DELIVRD")
        wait_until(lambda: gateway._deliveries_in.qsize() == 5)
        assert smsc.deliver_answers == []

        listener.open.set()

        wait_until(lambda: message(notify_runtime, short_id).status == "failed")
        assert message(notify_runtime, long_id).status == "delivered"
        assert listener.batches[:2] == [1, 5]
        wait_until(lambda: len(smsc.deliver_answers) == 5)
        # The late one waits for its part's sending to commit, and is taken then.
        late_id = sent_sms(notify_runtime, ["smsc-late"])
        wait_until(lambda: message(notify_runtime, late_id).status == "delivered")
        wait_until(lambda: len(smsc.deliver_answers) == 6)
        assert smsc.deliver_answers == [0] * 6
        assert len(published(notify_runtime, "message.delivered")) == 2
        assert len(published(notify_runtime, "message.failed")) == 1
    finally:
        gateway.close()


class Gated:
    """A listener passing batches on, each waiting while `open` is cleared."""

    def __init__(self, inner: WorkListener) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.open = threading.Event()
        self.open.set()

    def receipts(self, batch: Sequence[DeliveryReceipt]) -> list[DeliveryReceipt]:
        self.batches.append(len(batch))
        assert self.open.wait(10)
        return self.inner.receipts(batch)

    def inbound(self, sms: InboundSms) -> None:
        self.inner.inbound(sms)


def test_a_number_the_smsc_refuses_fails_at_once_without_retries(
    notify_runtime: ServiceRuntime, smpp: Gateway, smsc: SmppServer
) -> None:
    smsc.refusals[PHONE] = 0x0B  # ESME_RINVDSTADR
    message_id = queued_sms(notify_runtime)

    deliver(notify_runtime.work, smpp, [message_id])

    refused = message(notify_runtime, message_id)
    assert refused.status == "failed"
    assert "Invalid Destination Address" in (refused.error or "")
    (failed,) = published(notify_runtime, "message.failed")
    assert failed["status"] == "failed"
    assert published(notify_runtime, "message.sent") == []
    (unreachable,) = published(notify_runtime, "citizen.unreachable")
    assert unreachable["message_id"] == str(message_id)


def test_no_receipt_in_time_expires_the_message_and_asks_for_a_call_back(
    notify_runtime: ServiceRuntime, smpp: Gateway, smsc: SmppServer
) -> None:
    smsc.auto_receipt = None
    message_id = queued_sms(notify_runtime)
    deliver(notify_runtime.work, smpp, [message_id])
    assert message(notify_runtime, message_id).status == "sent"

    assert expire_overdue(notify_runtime.work) == 0
    later = utcnow() + timedelta(seconds=notify_runtime.settings.sms_receipt_timeout + 1)
    assert expire_overdue(notify_runtime.work, later) == 1
    assert expire_overdue(notify_runtime.work, later) == 0

    assert message(notify_runtime, message_id).status == "expired"
    (failed,) = published(notify_runtime, "message.failed")
    assert failed["status"] == "expired"
    (unreachable,) = published(notify_runtime, "citizen.unreachable")
    assert unreachable["message_id"] == str(message_id)
    assert PHONE not in json.dumps(unreachable)
    # A receipt that comes after all changes nothing.
    smsc.send_receipt(smsc.submitted[0].message_id, "DELIVRD")
    wait_until(lambda: smsc.deliver_answers == [0])
    assert message(notify_runtime, message_id).status == "expired"


def test_a_message_no_gateway_takes_within_the_hour_fails_and_asks_for_a_call_back(
    notify_runtime: ServiceRuntime,
) -> None:
    message_id = queued_sms(notify_runtime)
    assert give_up_undelivered(notify_runtime.work) == 0
    later = utcnow() + GIVE_UP_AFTER + timedelta(seconds=1)
    assert give_up_undelivered(notify_runtime.work, later) == 1
    assert give_up_undelivered(notify_runtime.work, later) == 0

    stuck = message(notify_runtime, message_id)
    assert stuck.status == "failed"
    assert "within 1 h" in (stuck.error or "")
    (failed,) = published(notify_runtime, "message.failed")
    assert failed["message_id"] == str(message_id)
    (unreachable,) = published(notify_runtime, "citizen.unreachable")
    assert unreachable["message_id"] == str(message_id)
    # Nothing left for the stale-message sweep to queue again.
    assert stale_message_ids(notify_runtime.work, timedelta(0)) == []


class Provider(BaseHTTPRequestHandler):
    """An SMS provider's API: checks our signature, answers with its own id for each message."""

    received: list[dict[str, Any]]
    bad_signatures: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not signature_is_valid(
            GATEWAY_SECRET,
            self.headers["X-Minqing-Timestamp"],
            body,
            self.headers["X-Minqing-Signature"],
            time.time(),
        ):
            self.bad_signatures.append(self.path)
            self.send_response(401)
            self.end_headers()
            return
        batch = json.loads(body)
        self.received.extend(batch["messages"])
        answer = json.dumps(
            {
                "messages": [
                    {"id": m["id"], "error": "blacklisted number"}
                    if m["to"] == BLOCKED
                    else {"id": m["id"], "ref": f"p-{m['id'][:8]}"}
                    for m in batch["messages"]
                ]
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def provider() -> Iterator[tuple[str, type[Provider]]]:
    handler = type("ProviderForTest", (Provider,), {"received": [], "bad_signatures": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms/send", handler
    server.shutdown()
    server.server_close()


def signed_post(
    client: TestClient, path: str, payload: object, secret: str = GATEWAY_SECRET
) -> Any:
    body = json.dumps(payload).encode()
    return client.post(path, content=body, headers=signed_headers(secret, body, time.time()))


def test_the_http_gateway_signs_its_request_and_a_signed_callback_settles_the_message(
    notify_runtime: ServiceRuntime, provider: tuple[str, type[Provider]]
) -> None:
    url, handler = provider
    gateway = gateway_from_url(url, secret=GATEWAY_SECRET)
    message_id = queued_sms(notify_runtime)
    blocked_id = queued_sms(notify_runtime, phone=BLOCKED)
    client = TestClient(build_app([notify_runtime]))

    deliver(notify_runtime.work, gateway, [message_id, blocked_id])

    assert [(m["id"], m["to"]) for m in handler.received] == [
        (str(message_id), PHONE),
        (str(blocked_id), BLOCKED),
    ]
    assert handler.bad_signatures == []
    blocked = message(notify_runtime, blocked_id)
    assert (blocked.status, blocked.error) == ("failed", "blacklisted number")
    ref = f"p-{str(message_id)[:8]}"
    receipt = {"receipts": [{"ref": ref, "status": "delivered"}]}
    forged = signed_post(client, "/api/v1/notify/sms/receipts", receipt, secret="guessed")
    assert forged.status_code == 401
    unknown = {"receipts": [{"ref": "p-unknown", "status": "delivered"}]}
    early = signed_post(client, "/api/v1/notify/sms/receipts", unknown)
    assert early.status_code == 503
    assert early.headers["Retry-After"]
    assert message(notify_runtime, message_id).status == "sent"

    answer = signed_post(client, "/api/v1/notify/sms/receipts", receipt)
    again = signed_post(client, "/api/v1/notify/sms/receipts", receipt)

    assert answer.status_code == again.status_code == 200
    assert message(notify_runtime, message_id).status == "delivered"
    assert len(published(notify_runtime, "message.delivered")) == 1


def test_a_callback_with_several_receipts_applies_those_it_can_and_asks_for_the_rest(
    notify_runtime: ServiceRuntime,
) -> None:
    whole = sent_sms(notify_runtime, ["p-1", "p-2"])
    broken = sent_sms(notify_runtime, ["p-3"])
    client = TestClient(build_app([notify_runtime]))
    receipts = {
        "receipts": [
            {"ref": "p-1", "status": "delivered"},
            {"ref": "p-late", "status": "delivered"},
            {"ref": "p-2", "status": "delivered"},
            {"ref": "p-1", "status": "delivered"},
            {"ref": "p-3", "status": "failed", "reason": "UNDELIV err:001"},
        ]
    }

    early = signed_post(client, "/api/v1/notify/sms/receipts", receipts)

    assert early.status_code == 503
    assert early.headers["Retry-After"]
    assert early.json()["not_yet_recorded"] == ["p-late"]
    assert early.json()["accepted"] == 4
    assert message(notify_runtime, whole).status == "delivered"
    assert message(notify_runtime, broken).error == "UNDELIV err:001"
    # The provider posts the whole batch again once the late part has been recorded.
    late = sent_sms(notify_runtime, ["p-late"])
    answer = signed_post(client, "/api/v1/notify/sms/receipts", receipts)
    assert (answer.status_code, answer.json()) == (200, {"accepted": 5})
    assert message(notify_runtime, late).status == "delivered"
    delivered = [d["message_id"] for d in published(notify_runtime, "message.delivered")]
    assert sorted(delivered) == sorted([str(whole), str(late)])
    assert len(published(notify_runtime, "message.failed")) == 1


def test_a_signed_reply_callback_is_published_on_the_case_it_answers(
    notify_runtime: ServiceRuntime,
) -> None:
    message_id = queued_sms(notify_runtime)
    sent = message(notify_runtime, message_id)
    case_id = sent.case_id
    assert case_id is not None
    # Where the case stands, as notify learns it from routing's events.
    with notify_runtime.work() as work:
        work.session.add(
            CaseProgress(
                case_id=case_id,
                tracking_no="20261201-000007",
                status="dispatched",
                updated_at=utcnow(),
            )
        )
    client = TestClient(build_app([notify_runtime]))
    reply = {"from": "+86" + PHONE, "text": "路灯还是不亮", "ref": "mo-1"}

    unsigned = client.post("/api/v1/notify/sms/inbound", json=reply)
    answer = signed_post(client, "/api/v1/notify/sms/inbound", reply)
    again = signed_post(client, "/api/v1/notify/sms/inbound", reply)

    assert unsigned.status_code == 401
    assert answer.status_code == again.status_code == 200
    # The provider posting the same reply twice (same reference) publishes it once.
    (replied,) = published(notify_runtime, "citizen.replied")
    assert (replied["case_id"], replied["text"], replied["meaning"]) == (
        str(case_id),
        "路灯还是不亮",
        "message",
    )
    assert PHONE not in json.dumps(replied)


def test_intake_puts_an_unreachable_citizen_on_the_call_back_list_once(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    with runtime.work() as work:
        receipt = accept(
            work,
            Submission("web", "complaint", "校车超载", None, None, Contact(phone=PHONE)),
            settings.secret_key,
        )
    running.append(runtime)
    runtime.start()
    assert runtime.wait_ready()
    unreachable = CitizenUnreachable(
        case_id=receipt.case_id,
        tracking_no=receipt.tracking_no,
        message_id=uuid.uuid4(),
        template="case_dispatched",
        reason="no delivery receipt within 1800 s",
    ).envelope(producer="notify", case_id=receipt.case_id)

    publish_envelopes(settings.broker_url, [unreachable, unreachable])

    def listed() -> list[Callback]:
        with runtime.database.session() as session:
            return list(session.scalars(select(Callback)))

    wait_until(listed)
    time.sleep(0.5)
    (entry,) = listed()
    assert (entry.caller_number, entry.missed_calls) == (PHONE, 1)
    with runtime.database.session() as session:
        (call,) = session.scalars(select(MissedCall))
        assert call.call_id == f"sms:{unreachable.data['message_id']}"


def test_a_running_notify_texts_through_smpp_and_hears_receipts_and_replies_on_its_link(
    settings: Settings, running: list[ServiceRuntime], smsc: SmppServer
) -> None:
    settings = dataclasses.replace(
        settings, sms_gateway=f"smpp://minqing:secret@127.0.0.1:{smsc.port}?source=106912345"
    )
    runtime = ServiceRuntime(notify.SERVICE, settings)
    running.append(runtime)
    runtime.start()
    assert runtime.wait_ready()
    case_id = uuid.uuid4()
    submitted = CaseSubmitted(
        case_id=case_id,
        tracking_no="20261201-000042",
        access_code="ABC234",
        channel="web",
        kind="complaint",
        category=None,
        description="路灯坏了",
        location=None,
        contact=Contact(phone=PHONE),
        submitted_at=utcnow(),
        promised_date=date(2026, 12, 16),
    ).envelope(producer="intake", case_id=case_id)

    publish_envelopes(settings.broker_url, [submitted])

    wait_until(lambda: published(runtime, "message.delivered"), timeout=20)
    (text,) = smsc.texts()
    assert "20261201-000042" in text
    assert smsc.submitted[0].destination == PHONE
    # "进度" (progress) is answered over the same link; anything else goes on to the case.
    smsc.send_reply(PHONE, "进度")
    wait_until(lambda: len(smsc.texts()) == 2, timeout=20)
    assert "20261201-000042" in smsc.texts()[1]
    smsc.send_reply(PHONE, "路灯还是不亮")
    wait_until(lambda: published(runtime, "citizen.replied"), timeout=20)
    (replied,) = published(runtime, "citizen.replied")
    assert (replied["case_id"], replied["text"]) == (str(case_id), "路灯还是不亮")


class Mailbox:
    """A real SMTP server's handler keeping every message."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def test_a_citizen_who_gave_only_an_email_hears_each_step_by_email_over_smtp(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = dataclasses.replace(settings, email_gateway=f"smtp://127.0.0.1:{port}")
        runtime = ServiceRuntime(notify.SERVICE, settings)
        running.append(runtime)
        runtime.start()
        assert runtime.wait_ready()
        case_id = uuid.uuid4()
        submitted = CaseSubmitted(
            case_id=case_id,
            tracking_no="20261201-000043",
            access_code="ABC234",
            channel="web",
            kind="complaint",
            category=None,
            description="路灯坏了",
            location=None,
            contact=Contact(email="wang.fang@example.com"),
            submitted_at=utcnow(),
            promised_date=date(2026, 12, 16),
        ).envelope(producer="intake", case_id=case_id)

        publish_envelopes(settings.broker_url, [submitted, submitted])

        wait_until(lambda: mailbox.received, timeout=20)
        wait_until(lambda: published(runtime, "message.sent"), timeout=20)
        time.sleep(0.5)
        ((to, mail),) = mailbox.received
        assert to == ["wang.fang@example.com"]
        assert "20261201-000043" in mail["Subject"]
        body = mail.get_body(("plain",))
        assert body is not None
        assert "您的诉求已受理，编号20261201-000043" in body.get_content()
        (sent,) = published(runtime, "message.sent")
        assert sent["channel"] == "email"
        assert read_sms(Path(settings.sms_gateway.removeprefix("file://"))) == []
    finally:
        controller.stop()
