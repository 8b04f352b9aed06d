"""The kernel's promises on the real broker and database: outbox, idempotency, dead letters."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, date, datetime

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select

from services import intake, reporting
from services.__main__ import SPECS, main
from services.intake.models import Case
from services.intake.submissions import Submission, accept
from services.kernel.bus import DEAD_QUEUE, DELIVERY_LIMIT
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseSubmitted, CaseSubmittedV1, Contact
from services.kernel.outbox import outbox
from services.kernel.runtime import ServiceRuntime
from services.kernel.telemetry import EVENTS_DUPLICATE
from services.reporting.kpis import summary
from services.reporting.models import CaseFact
from tests.support import accept_cases, assigned, wait_until

pytestmark = pytest.mark.integration


def start(runtime: ServiceRuntime, running: list[ServiceRuntime]) -> ServiceRuntime:
    runtime.start()
    running.append(runtime)
    assert runtime.wait_ready(30)
    return runtime


def submitted_event(tracking_no: str = "20261127-000001") -> CaseSubmitted:
    return CaseSubmitted(
        case_id=uuid.uuid4(),
        tracking_no=tracking_no,
        access_code="ABC234",
        channel="web",
        kind="complaint",
        category=None,
        description="路灯坏了",
        location=None,
        contact=Contact(phone="13812345678"),
        submitted_at=datetime.now(UTC),
        promised_date=date(2026, 12, 16),
    )


def publish_raw(
    url: str, body: bytes, routing_key: str, *, exchange: str = "minqing.events"
) -> None:
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            content_type="application/json",
            delivery_mode=2,
        )


def drain(
    url: str, queue_name: str, expected: int, timeout: float = 15.0
) -> list[tuple[bytes, dict]]:
    """Take `expected` raw messages off a queue (acked), with their headers."""
    got: list[tuple[bytes, dict]] = []
    with Connection(url) as connection:
        queue = Queue(queue_name, no_declare=True)(connection.default_channel)

        def take() -> bool:
            message = queue.get(no_ack=False, accept=None)
            if message is not None:
                got.append((message.body, dict(message.headers or {})))
                message.ack()
            return len(got) >= expected

        wait_until(take, timeout, interval=0.05)
    return got


def test_relay_publishes_recorded_events_after_commit_and_marks_them_sent(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    probe = Queue(
        "probe.submitted",
        exchange=Exchange("minqing.events", type="topic", durable=True),
        routing_key="case.submitted.v2",
        auto_delete=False,
    )
    with Connection(settings.broker_url) as connection:
        probe(connection.default_channel).declare()
    submission = Submission(
        "web", "complaint", "噪音扰民", None, None, Contact(phone="13812345678")
    )
    # Recorded while no relay runs, as after a crash: the start-up sweep must find it.
    with runtime.work() as work:
        first = accept(work, submission, settings.secret_key)
    runtime.relay.start()
    try:
        with runtime.work() as work:
            second = accept(work, submission, settings.secret_key)
        bodies = [json.loads(body) for body, _ in drain(settings.broker_url, "probe.submitted", 2)]
    finally:
        runtime.relay.stop()
    assert [b["data"]["tracking_no"] for b in bodies] == [first.tracking_no, second.tracking_no]
    assert all(b["type"] == "case.submitted" and b["version"] == 2 for b in bodies)
    with runtime.database.session() as session:
        unsent = session.scalar(select(func.count()).where(outbox.c.published_at.is_(None)))
        kept = session.scalar(select(func.count()).select_from(outbox))
    assert unsent == 0
    assert kept == 2, "sent events stay in the outbox for replay"


def test_an_event_delivered_twice_has_one_effect(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = start(ServiceRuntime(reporting.SERVICE, settings), running)
    envelope = submitted_event().envelope(producer="intake")
    before = EVENTS_DUPLICATE.labels("reporting", "case_facts", "case.submitted.v2")._value.get()
    publish_raw(settings.broker_url, envelope.to_bytes(), "case.submitted.v2")
    publish_raw(settings.broker_url, envelope.to_bytes(), "case.submitted.v2")

    def counted_twice() -> bool:
        duplicates = EVENTS_DUPLICATE.labels("reporting", "case_facts", "case.submitted.v2")
        return duplicates._value.get() == before + 1

    wait_until(counted_twice, 15)
    with runtime.database.session() as session:
        assert summary(session).total == 1
        assert session.scalar(select(func.count()).select_from(CaseFact)) == 1


def test_an_event_of_an_older_version_still_reaches_the_newest_handler(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = start(ServiceRuntime(reporting.SERVICE, settings), running)
    newest = submitted_event()
    old = CaseSubmittedV1(**newest.model_dump(include=set(CaseSubmittedV1.model_fields)))
    envelope = old.envelope(producer="intake", case_id=newest.case_id)
    publish_raw(settings.broker_url, envelope.to_bytes(), envelope.routing_key)

    def counted() -> bool:
        with runtime.database.session() as session:
            return summary(session).total == 1

    wait_until(counted, 15)


def test_poison_messages_are_dead_lettered_with_a_reason_and_the_consumer_goes_on(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = start(ServiceRuntime(reporting.SERVICE, settings), running)
    queue = "reporting.case_facts"
    publish_raw(settings.broker_url, b"{not json", queue, exchange="")
    unknown = submitted_event().envelope(producer="intake").model_copy(update={"version": 99})
    publish_raw(settings.broker_url, unknown.to_bytes(), queue, exchange="")
    invalid = submitted_event().envelope(producer="intake").model_copy(update={"data": {"x": 1}})
    publish_raw(settings.broker_url, invalid.to_bytes(), queue, exchange="")
    good = submitted_event("20261127-000042").envelope(producer="intake")
    publish_raw(settings.broker_url, good.to_bytes(), "case.submitted.v2")

    dead = drain(settings.broker_url, DEAD_QUEUE, 3)
    reasons = sorted(headers["x-minqing-reason"] for _, headers in dead)
    assert reasons == ["undecodable", "undecodable", "unknown-event"]
    assert all(headers["x-minqing-queue"] == queue for _, headers in dead)
    assert all(headers["x-minqing-detail"] for _, headers in dead)

    def counted() -> bool:
        with runtime.database.session() as session:
            return summary(session).total == 1

    wait_until(counted, 15)


def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = start(ServiceRuntime(intake.SERVICE, settings), running)
    # Intake has never seen this case, so its handler cannot apply the assignment.
    orphan = assigned(uuid.uuid4(), "20261127-009999").envelope(producer="routing")
    publish_raw(settings.broker_url, orphan.to_bytes(), "case.assigned.v1")
    [(body, headers)] = drain(settings.broker_url, DEAD_QUEUE, 1, timeout=30)
    assert headers["x-minqing-reason"] == "handler-failed"
    assert "RetryLater" in headers["x-minqing-detail"]
    assert json.loads(body)["id"] == str(orphan.id)
    assert runtime.consumers[0].ready.is_set()


def test_every_handler_has_its_own_quorum_queue_with_a_delivery_limit(settings: Settings) -> None:
    vhost = settings.broker_url.rsplit("/", 1)[1]
    listing = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "type",
            "arguments",
            "--formatter",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    queues = {q["name"]: q for q in json.loads(listing.stdout)}
    expected = {s.queue_name for spec in SPECS.values() for s in spec.subscriptions}
    assert expected == {
        "intake.update_citizen_view",
        "intake.keep_catalogue",
        "intake.record_resolution",
        "intake.note_department_request",
        "intake.call_back_unreachable_citizen",
        "intake.keep_message_status",
        "intake.take_sms_reply",
        "routing.dispatch_case",
        "routing.close_merged_work_order",
        "routing.resume_on_material",
        "routing.revisit_or_rehandle",
        "notify.citizen_messages",
        "notify.citizen_step_messages",
        "notify.deadline_warnings",
        "notify.email_acknowledgement",
        "notify.follow_case_progress",
        "notify.learn_contacts",
        "notify.major_matter_alerts",
        "notify.merged_case_messages",
        "notify.work_order_arrivals",
        "reporting.case_facts",
        "reporting.case_returns",
        "reporting.message_facts",
    }
    for name in expected:
        assert queues[name]["type"] == "quorum", name
        arguments = {a[0] if isinstance(a, list) else a: a for a in queues[name]["arguments"]}
        assert "x-delivery-limit" in str(arguments), name
        assert "minqing.dead" in str(queues[name]["arguments"]), name
    assert str(DELIVERY_LIMIT) in str(queues["routing.dispatch_case"]["arguments"])


def test_replay_command_publishes_retained_events_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    submission = Submission("web", "help", "求助", None, None, Contact(phone="13812345678"))
    with runtime.work() as work:
        receipt = accept(work, submission, settings.secret_key)
    probe = Queue(
        "probe.replay",
        exchange=Exchange("minqing.events", type="topic", durable=True),
        routing_key="case.#",
    )
    with Connection(settings.broker_url) as connection:
        probe(connection.default_channel).declare()
    monkeypatch.setenv("MINQING_BROKER_URL", settings.broker_url)
    monkeypatch.setenv(
        "MINQING_DATABASE_URL", settings.database_url("intake").replace("intake", "{service}")
    )
    monkeypatch.setenv("MINQING_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("MINQING_DATA_DIR", str(settings.data_dir))
    assert main(["replay", "--service", "intake", "--since", "2000-01-01T00:00:00Z"]) == 0
    [(body, headers)] = drain(settings.broker_url, "probe.replay", 1)
    assert json.loads(body)["data"]["tracking_no"] == receipt.tracking_no
    assert headers["x-minqing-replay"] == "1"
    assert main(["replay", "--service", "intake", "--since", "2999-01-01T00:00:00Z"]) == 0
    assert drain(settings.broker_url, "probe.replay", 0, timeout=1) == []


def test_one_failing_message_in_a_batch_does_not_hold_back_the_others(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    receipts = accept_cases(runtime, settings.secret_key, 5)
    # Queued before the consumer starts, so they arrive together as one batch.
    events = [assigned(r.case_id, r.tracking_no) for r in receipts[:2]]
    events.append(assigned(uuid.uuid4(), "20261127-009999"))
    events += [assigned(r.case_id, r.tracking_no) for r in receipts[2:]]
    for event in events:
        publish_raw(
            settings.broker_url, event.envelope(producer="routing").to_bytes(), "case.assigned.v1"
        )
    start(runtime, running)

    [(_, headers)] = drain(settings.broker_url, DEAD_QUEUE, 1, timeout=30)
    assert headers["x-minqing-reason"] == "handler-failed"
    case_ids = [r.case_id for r in receipts]

    def all_dispatched() -> bool:
        with runtime.database.session() as session:
            statuses = session.scalars(select(Case.status).where(Case.id.in_(case_ids)))
            return sorted(statuses) == ["dispatched"] * 5

    # Messages after the failing one are handled once it has been dead-lettered.
    wait_until(all_dispatched, 15)
