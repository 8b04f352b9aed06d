"""One message per (event, recipient, template), whatever happens on the way to the gateway.

A redelivered event, a replayed one (`minqing replay`), a task run again, a gateway that took
the message but answered with an error, and a worker killed (SIGKILL) in the middle of sending:
each leaves exactly one copy in the gateway's outbox. An SMSC cannot tell a repeat, so there a
handover cut short by a crash is never sent again: the message expires and the citizen is
reached another way.
"""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Interval, func, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from services import intake, notify
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.runtime import ServiceRuntime
from services.kernel.telemetry import TASKS
from services.notify.gateways import GatewayError, Handover, OutgoingSms
from services.notify.gateways.file import FileGateway
from services.notify.gateways.smpp import SmppGateway
from services.notify.models import Message
from services.notify.sending import CUT_SHORT, HANDOVER_GRACE, deliver, stamp_handovers
from services.notify.tasks import SEND_MESSAGES
from tests.smpp_server import SmppServer
from tests.support import (
    MINQING,
    REPO,
    accept_cases,
    base_env,
    free_port,
    publish_envelopes,
    read_sms,
    start_runtimes,
    submitted_event,
    wait_until,
)

pytestmark = pytest.mark.integration


def copies(outbox: Path) -> Counter[tuple[str, str]]:
    """How many times each (tracking number, template) reached the gateway."""
    return Counter((s["tracking_no"], s["template"]) for s in read_sms(outbox))


def message_count(runtime: ServiceRuntime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_the_database_refuses_a_second_message_for_the_same_event_recipient_and_template(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    event_id = uuid.uuid4()

    def record() -> None:
        with runtime.work() as work:
            work.session.add(
                Message(
                    id=uuid.uuid4(),
                    event_id=event_id,
                    recipient="13700000001",
                    template="case_received",
                    channel="sms",
                    text="x",
                    segments=1,
                    status="sent",
                    created_at=utcnow(),
                )
            )

    try:
        record()
        with pytest.raises(IntegrityError):
            record()
    finally:
        runtime.database.dispose()


def test_an_event_delivered_three_times_sends_one_message(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    [runtime] = start_runtimes(settings, running, notify.SERVICE)
    envelope = submitted_event(1).envelope(producer="intake")
    for _ in range(3):
        publish_envelopes(settings.broker_url, [envelope])
    # A later event on the same queue: once its message is out, the copies have been handled.
    publish_envelopes(settings.broker_url, [submitted_event(2).envelope(producer="intake")])
    outbox = tmp_path / "sms-outbox.jsonl"

    wait_until(lambda: ("20261201-000002", "case_received") in copies(outbox), 20)
    assert copies(outbox) == {
        ("20261201-000001", "case_received"): 1,
        ("20261201-000002", "case_received"): 1,
    }
    assert message_count(runtime) == 2


def test_events_replayed_with_minqing_replay_send_nothing_twice(
    settings: Settings,
    running: list[ServiceRuntime],
    tmp_path: Path,
    postgres_url: str,
    amqp_url: str,
) -> None:
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    since = datetime.now(UTC) - timedelta(seconds=1)
    [first] = accept_cases(intake_runtime, settings.secret_key, 1)
    outbox = tmp_path / "sms-outbox.jsonl"
    wait_until(lambda: copies(outbox)[(first.tracking_no, "case_received")] == 1, 20)

    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [*MINQING, "replay", "--service", "intake", "--since", since.isoformat()],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The case's `case.submitted` at least, whatever else intake recorded since.
    replayed = int(done.stdout.split()[1])
    assert replayed >= 1, done.stdout

    [second] = accept_cases(intake_runtime, settings.secret_key, 1)
    wait_until(lambda: copies(outbox)[(second.tracking_no, "case_received")] == 1, 20)
    assert copies(outbox) == {
        (first.tracking_no, "case_received"): 1,
        (second.tracking_no, "case_received"): 1,
    }
    assert message_count(notify_runtime) == 2


def test_a_sending_task_run_again_sends_nothing_twice(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    [runtime] = start_runtimes(settings, running, notify.SERVICE)
    publish_envelopes(settings.broker_url, [submitted_event(3).envelope(producer="intake")])
    outbox = tmp_path / "sms-outbox.jsonl"
    wait_until(lambda: len(read_sms(outbox)) == 1, 20)
    with runtime.database.session() as session:
        message_id = str(session.scalars(select(Message.id)).one())

    before = TASKS.labels(SEND_MESSAGES, "ok")._value.get()
    assert runtime.celery is not None
    for _ in range(2):
        runtime.celery.send_task(SEND_MESSAGES, args=(message_id,))
    wait_until(lambda: TASKS.labels(SEND_MESSAGES, "ok")._value.get() - before >= 2, 20)

    assert copies(outbox) == {("20261201-000003", "case_received"): 1}


class TakesItThenFails:
    """A gateway that hands the message on, then reports a timeout, as a carrier link may."""

    def __init__(self, gateway: FileGateway) -> None:
        self.gateway = gateway
        self.calls = 0

    sends_receipts = False
    dedupes = True

    def send(self, messages: Sequence[OutgoingSms]) -> Handover:
        self.calls += 1
        handover = self.gateway.send(messages)
        if self.calls == 1:
            raise GatewayError("timed out waiting for the answer")
        return handover


def test_a_retry_after_the_gateway_took_the_message_but_answered_an_error_sends_one_copy(
    settings: Settings, tmp_path: Path
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    outbox = tmp_path / "sms-outbox.jsonl"
    with runtime.work() as work:
        message = Message(
            id=uuid.uuid4(),
            event_id=uuid.uuid4(),
            recipient="13700000004",
            template="case_received",
            channel="sms",
            tracking_no="20261201-000004",
            text="【民情12345】您的诉求已受理",
            segments=1,
            status="queued",
            created_at=utcnow(),
        )
        work.session.add(message)
    # Each attempt as the task makes it: a fresh gateway object, as after a restart.
    gateway = TakesItThenFails(FileGateway(outbox))
    try:
        with pytest.raises(GatewayError):
            deliver(runtime.work, gateway, [message.id])
        gateway.gateway = FileGateway(outbox)
        deliver(runtime.work, gateway, [message.id])
        with runtime.database.session() as session:
            assert session.get_one(Message, message.id).status == "sent"
    finally:
        runtime.database.dispose()
    assert gateway.calls == 2
    assert copies(outbox) == {("20261201-000004", "case_received"): 1}


# --- a worker killed in the middle of sending ----------------------------------------------

BACKLOG = 200


def written_but_unmarked(outbox: Path, runtime: ServiceRuntime) -> int:
    """Messages the gateway holds whose sending was never committed: the kill's window."""
    written = {s["id"] for s in read_sms(outbox)}
    with runtime.database.session() as session:
        queued = {
            str(i) for i in session.scalars(select(Message.id).where(Message.status == "queued"))
        }
    return len(written & queued)


def test_a_worker_killed_between_the_gateway_and_its_commit_leaves_one_copy_of_each_message(
    settings: Settings, tmp_path: Path, postgres_url: str, amqp_url: str
) -> None:
    events = [submitted_event(100000 + n).envelope(producer="intake") for n in range(BACKLOG)]
    publish_envelopes(settings.broker_url, events)
    outbox = tmp_path / "sms-outbox.jsonl"
    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path / "data"),
        MINQING_SMS_GATEWAY=f"file://{outbox}",
    )
    reader = ServiceRuntime(notify.SERVICE, settings)
    try:
        kill_mid_send(reader, env, tmp_path, lambda: len(read_sms(outbox)) > 0)
        caught = written_but_unmarked(outbox, reader)
        assert caught > 0, "the gateway had the messages and their sending was not committed"

        restarted = _serve_notify(env, tmp_path / "notify.log")
        try:
            wait_until(lambda: statuses(reader) == {"sent": BACKLOG}, 180, interval=0.2)
        finally:
            restarted.kill()
            restarted.wait(10)
    finally:
        reader.database.dispose()
    sent = read_sms(outbox)
    assert len(sent) == BACKLOG
    assert set(copies(outbox).values()) == {1}
    assert {s["tracking_no"] for s in sent} == {e.data["tracking_no"] for e in events}


def kill_mid_send(
    reader: ServiceRuntime, env: dict[str, str], tmp_path: Path, handed_over: Callable[[], bool]
) -> None:
    """Start a real notify and SIGKILL it once the gateway has `handed_over` messages whose
    sending has not committed.

    While this transaction holds the outbox, a sending task that has handed its messages to the
    gateway cannot record `message.sent` and commit: it is caught mid-send.
    """
    with reader.database.engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        worker = _serve_notify(env, tmp_path / "notify.log")
        try:
            wait_until(handed_over, 120, interval=0.05)
        finally:
            worker.kill()
            worker.wait(10)
        blocker.rollback()


def statuses(runtime: ServiceRuntime) -> dict[str, int]:
    with runtime.database.session() as session:
        rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
        return dict(rows.tuples().all())


def _serve_notify(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [*MINQING, "serve", "notify", "--port", str(free_port())],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


# --- an SMSC, which cannot tell a repeat -----------------------------------------------------


def smpp_url(smsc: SmppServer) -> str:
    return f"smpp://minqing:secret@127.0.0.1:{smsc.port}?source=106912345"


def queued_sms(runtime: ServiceRuntime, number: int) -> Message:
    with runtime.work() as work:
        message = Message.queued(
            event_id=uuid.uuid4(),
            recipient=f"137{number:08d}",
            template="case_received",
            channel="sms",
            case_id=None,
            tracking_no=f"20261201-{number:06d}",
            text="【民情12345】您的诉求已受理",
            segments=1,
        )
        work.session.add(message)
    return message


def handover_of(runtime: ServiceRuntime, message_id: uuid.UUID) -> tuple[str, datetime | None]:
    with runtime.database.session() as session:
        message = session.get_one(Message, message_id)
        return message.status, message.handover_at


def test_an_smpp_handover_under_way_elsewhere_is_left_to_it_and_one_cut_short_is_not_resent(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    smsc = SmppServer()
    smsc.start()
    gateway = SmppGateway.from_url(urlsplit(smpp_url(smsc)))
    try:
        message = queued_sms(runtime, 5)
        # Another task stamped it a moment ago and is handing it over now.
        stamp_handovers(runtime.work, [message.id], now=utcnow() - timedelta(seconds=5))
        deliver(runtime.work, gateway, [message.id])
        assert smsc.submitted == []
        assert handover_of(runtime, message.id)[0] == "queued"

        # That task's process died; long after, the message is not sent a second time.
        later = utcnow() + HANDOVER_GRACE
        stamp_handovers(runtime.work, [message.id], now=later)
        deliver(runtime.work, gateway, [message.id])
        assert smsc.submitted == []
        with runtime.database.session() as session:
            settled = session.get_one(Message, message.id)
            assert (settled.status, settled.error) == ("expired", CUT_SHORT)
    finally:
        gateway.close()
        smsc.stop()
        runtime.database.dispose()


def test_an_smpp_handover_the_smsc_never_took_is_unstamped_and_sent_on_the_retry(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    smsc = SmppServer()
    # No SMSC listens at first: the send fails before anything is handed over.
    absent = SmppGateway.from_url(urlsplit(f"smpp://minqing:secret@127.0.0.1:{free_port()}"))
    gateway = SmppGateway.from_url(urlsplit(smpp_url(smsc)))
    try:
        message = queued_sms(runtime, 6)
        with pytest.raises(GatewayError):
            deliver(runtime.work, absent, [message.id])
        assert handover_of(runtime, message.id) == ("queued", None)

        smsc.start()
        deliver(runtime.work, gateway, [message.id])
        assert handover_of(runtime, message.id)[0] == "sent"
        assert [p.destination for p in smsc.submitted] == ["13700000006"]
    finally:
        gateway.close()
        absent.close()
        smsc.stop()
        runtime.database.dispose()


def test_an_smpp_worker_killed_mid_handover_sends_no_message_twice(
    settings: Settings, tmp_path: Path, postgres_url: str, amqp_url: str
) -> None:
    events = [submitted_event(200000 + n).envelope(producer="intake") for n in range(BACKLOG)]
    publish_envelopes(settings.broker_url, events)
    smsc = SmppServer()
    smsc.start()
    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path / "data"),
        MINQING_SMS_GATEWAY=smpp_url(smsc),
    )
    reader = ServiceRuntime(notify.SERVICE, settings)
    try:
        kill_mid_send(reader, env, tmp_path, lambda: len(smsc.submitted) > 0)
        taken_before = {p.destination for p in smsc.submitted}
        with reader.database.engine.begin() as connection:
            # The restart comes after the grace a live handover is given.
            cut_short = connection.execute(
                update(Message)
                .where(Message.status == "queued", Message.handover_at.is_not(None))
                .values(handover_at=Message.handover_at - literal(HANDOVER_GRACE * 2, Interval))
            ).rowcount
        assert cut_short >= len(taken_before) > 0

        restarted = _serve_notify(env, tmp_path / "notify.log")
        try:
            wait_until(lambda: "queued" not in statuses(reader), 180, interval=0.2)
        finally:
            restarted.kill()
            restarted.wait(10)
    finally:
        reader.database.dispose()
        smsc.stop()
    per_number = Counter(p.destination for p in smsc.submitted)
    assert set(per_number.values()) == {1}, "an SMS went to the SMSC twice"
    assert taken_before <= set(per_number)
    final = statuses(reader)
    assert final.get("expired") == cut_short
    assert final.get("expired", 0) + final.get("sent", 0) + final.get("delivered", 0) == BACKLOG
