"""Work done a batch at a time on the real broker and database, with nothing lost or doubled."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import event, func, select

from services import intake, notify, reporting
from services.intake.models import Case
from services.kernel.bus import Bus, Destination, Outgoing, Publisher
from services.kernel.config import Settings
from services.kernel.runtime import ServiceRuntime
from services.kernel.telemetry import EVENTS_DUPLICATE, TASKS
from services.notify.models import Message
from services.notify.tasks import SEND_MESSAGES
from services.reporting.kpis import summary
from services.reporting.models import CaseFact
from tests.support import (
    accept_cases,
    assigned,
    publish_envelopes,
    read_sms,
    submitted_event,
    wait_until,
)

pytestmark = pytest.mark.integration


def count_messages(url: str, queue: str) -> int:
    with Connection(url) as connection:
        _, count, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
    return int(count)


def test_a_confirmed_batch_all_arrives_and_a_dropped_connection_is_reopened(
    settings: Settings,
) -> None:
    probe = Queue(
        "probe.batch",
        exchange=Exchange("minqing.events", type="topic", durable=True),
        routing_key="probe.batch",
        queue_arguments={"x-queue-type": "quorum"},
    )
    with Connection(settings.broker_url) as connection:
        probe(connection.default_channel).declare()
    publisher = Publisher(Bus(settings.broker_url))
    batch = [
        Outgoing(Destination("minqing.events", "probe.batch"), b"{}", str(i)) for i in range(300)
    ]
    try:
        publisher.publish_all(batch)
        assert count_messages(settings.broker_url, "probe.batch") == 300
        # The broker drops every connection of the vhost; the next batch must still arrive.
        vhost = settings.broker_url.rsplit("/", 1)[1]
        subprocess.run(
            ["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "test"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        publisher.publish_all(batch[:10])
    finally:
        publisher.close()
    assert count_messages(settings.broker_url, "probe.batch") == 310


def test_an_event_twice_in_one_batch_is_handled_once(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    envelope = submitted_event(1).envelope(producer="intake")
    labels = ("reporting", "case_facts", "case.submitted.v2")
    before = EVENTS_DUPLICATE.labels(*labels)._value.get()
    # Both copies wait in the queue before the consumer starts, so they arrive in one batch.
    publish_envelopes(settings.broker_url, [envelope, envelope])
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    runtime.start()
    running.append(runtime)

    wait_until(lambda: EVENTS_DUPLICATE.labels(*labels)._value.get() == before + 1, 15)
    with runtime.database.session() as session:
        assert summary(session).total == 1
        assert session.scalar(select(func.count()).select_from(CaseFact)) == 1


def test_a_batch_of_events_sends_its_messages_in_few_tasks_and_each_once(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    events = [submitted_event(n).envelope(producer="intake") for n in range(1, 41)]
    before = TASKS.labels(SEND_MESSAGES, "ok")._value.get()
    publish_envelopes(settings.broker_url, events)
    runtime = ServiceRuntime(notify.SERVICE, settings)
    runtime.start()
    running.append(runtime)
    outbox = tmp_path / "sms-outbox.jsonl"

    wait_until(lambda: len(read_sms(outbox)) >= 40, 30)
    sms = read_sms(outbox)
    assert sorted(s["tracking_no"] for s in sms) == sorted(e.data["tracking_no"] for e in events)
    assert all(s["template"] == "case_received" for s in sms)
    # Forty messages waiting together go out in a handful of tasks, not forty.
    assert TASKS.labels(SEND_MESSAGES, "ok")._value.get() - before <= 5

    def all_marked_sent() -> bool:
        # The gateway writes before the task's transaction commits.
        with runtime.database.session() as session:
            return list(session.scalars(select(Message.status))) == ["sent"] * 40

    wait_until(all_marked_sent, 15)


def test_a_batch_reads_its_cases_in_one_query_not_one_per_event(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = ServiceRuntime(intake.SERVICE, settings)
    receipts = accept_cases(runtime, settings.secret_key, 30)
    events = [assigned(r.case_id, r.tracking_no) for r in receipts]
    publish_envelopes(settings.broker_url, [e.envelope(producer="routing") for e in events])
    reads: list[str] = []

    @event.listens_for(runtime.database.engine, "before_cursor_execute")
    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # Only the citizen view's consumer, not this test's reads nor intake's other handlers.
        consuming = threading.current_thread().name == "consumer-intake.update_citizen_view"
        if consuming and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    runtime.start()
    running.append(runtime)

    def all_dispatched() -> bool:
        with runtime.database.session() as session:
            ids = [r.case_id for r in receipts]
            statuses = session.scalars(select(Case.status).where(Case.id.in_(ids)))
            return sorted(statuses) == ["dispatched"] * 30

    wait_until(all_dispatched, 15)
    # Thirty events waiting together: a read per batch, where there used to be one per event.
    assert 1 <= len(reads) <= 5, reads
