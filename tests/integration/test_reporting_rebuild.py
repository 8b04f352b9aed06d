"""`minqing reporting rebuild`: reporting's projections emptied and filled again from the events
the other services retain, to the same figures, without the other services handling them again."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from services import intake, reporting, routing
from services.__main__ import SPECS
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseMerged, MessageDelivered, MessageSent
from services.kernel.outbox import processed_events
from services.kernel.runtime import ServiceRuntime
from services.reporting import kpis
from services.reporting.models import CaseFact, MessageFact
from tests.support import MINQING, REPO, accept_cases, base_env, start_runtimes, wait_until

pytestmark = pytest.mark.integration

SUMMARY = re.compile(
    r"rebuilt reporting from (\d+) events \(intake (\d+), routing (\d+), notify (\d+)\)"
)


def facts(runtime: ServiceRuntime) -> list[tuple[Any, ...]]:
    """Every projection's rows: the cases', then the messages'."""
    with runtime.database.session() as session:
        cases = session.execute(select(CaseFact.__table__).order_by(CaseFact.case_id))
        messages = session.execute(select(MessageFact.__table__).order_by(MessageFact.message_id))
        return [tuple(row) for row in (*cases, *messages)]


def messages_recorded(runtime: ServiceRuntime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(MessageFact)) or 0


def figures(runtime: ServiceRuntime) -> kpis.Summary:
    with runtime.database.session() as session:
        return kpis.summary(session)


def dispatched_or_waiting(runtime: ServiceRuntime) -> int:
    counts = figures(runtime).by_status
    return counts.get("dispatched", 0) + counts.get("awaiting_dispatch", 0)


def inbox_size(runtime: ServiceRuntime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(processed_events)) or 0


def other_queue_depths(runtime: ServiceRuntime) -> dict[str, int]:
    """Messages waiting on every handler queue but reporting's (notify's are not consumed here,
    so anything sent to them stays)."""
    names = [
        s.queue_name
        for name, spec in SPECS.items()
        if name != "reporting"
        for s in spec.subscriptions
    ]
    with runtime.bus.connect() as connection:
        return {name: runtime.bus.queue_depth(connection, name) for name in names}


def test_rebuild_refills_the_projections_identically_and_only_reporting_sees_the_events(
    settings: Settings, running: list[ServiceRuntime], postgres_url: str, amqp_url: str
) -> None:
    intake_runtime, routing_runtime, reporting_runtime = start_runtimes(
        settings, running, intake.SERVICE, routing.SERVICE, reporting.SERVICE
    )
    receipts = accept_cases(intake_runtime, settings.secret_key, 4)
    # Routing dispatches each case, or leaves it to a dispatcher: either way a second event.
    wait_until(lambda: dispatched_or_waiting(reporting_runtime) == 4, 20)
    merged, into = receipts[3], receipts[0]
    with intake_runtime.work() as work:
        work.publish(
            CaseMerged(
                case_id=merged.case_id,
                tracking_no=merged.tracking_no,
                into_case_id=into.case_id,
                into_tracking_no=into.tracking_no,
                merged_by="d-01",
            ),
            case_id=merged.case_id,
        )
        # Notify does not run here: intake's outbox carries a message's two events instead.
        message_id = uuid.uuid4()
        for event in (
            MessageSent(
                message_id=message_id,
                case_id=into.case_id,
                tracking_no=into.tracking_no,
                template="case_received",
                channel="sms",
                segments=1,
            ),
            MessageDelivered(
                message_id=message_id,
                case_id=into.case_id,
                tracking_no=into.tracking_no,
                template="case_received",
                channel="sms",
                delivered_at=datetime.now(UTC),
            ),
        ):
            work.publish(event, case_id=into.case_id)
    wait_until(lambda: figures(reporting_runtime).by_status.get("merged") == 1, 20)
    wait_until(lambda: messages_recorded(reporting_runtime) == 1, 20)
    wait_until(lambda: intake_runtime.relay.is_idle() and routing_runtime.relay.is_idle(), 10)
    before_facts, before_figures = facts(reporting_runtime), figures(reporting_runtime)
    before_inboxes = inbox_size(intake_runtime), inbox_size(routing_runtime)
    before_depths = other_queue_depths(reporting_runtime)
    assert before_figures.total == 4

    # A projection gone wrong: one case lost, another miscounted, the message forgotten. The
    # rebuild must undo all three.
    with reporting_runtime.work() as work:
        work.session.delete(work.session.get(CaseFact, receipts[1].case_id))
        work.session.execute(delete(MessageFact))
        work.session.execute(
            update(CaseFact).where(CaseFact.case_id == receipts[2].case_id).values(channel="x")
        )
    assert facts(reporting_runtime) != before_facts

    done = subprocess.run(
        [*MINQING, "reporting", "rebuild"],
        env=base_env(
            MINQING_BROKER_URL=amqp_url,
            MINQING_DATABASE_URL=postgres_url,
            MINQING_DATA_DIR=str(settings.data_dir),
        ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = SUMMARY.search(done.stdout)
    assert found, done.stdout
    total, from_intake, from_routing, from_notify = map(int, found.groups())
    # Four submissions, the merge and the message's two events; a dispatch or a wait for a
    # dispatcher per case; notify did not run, so recorded nothing.
    assert (from_intake, from_notify) == (7, 0)
    assert from_routing >= 4
    assert total == from_intake + from_routing + from_notify

    wait_until(lambda: facts(reporting_runtime) == before_facts, 20)
    assert figures(reporting_runtime) == before_figures
    assert (inbox_size(intake_runtime), inbox_size(routing_runtime)) == before_inboxes
    assert other_queue_depths(reporting_runtime) == before_depths

    # A live case still counts once, whatever the replayed copies of older events do.
    [late] = accept_cases(intake_runtime, settings.secret_key, 1)
    wait_until(lambda: figures(reporting_runtime).total == 5, 20)
    assert [f for f in facts(reporting_runtime) if f[0] != late.case_id] == before_facts


def test_rebuild_refuses_the_embedded_broker(tmp_path: Path) -> None:
    done = subprocess.run(
        [*MINQING, "reporting", "rebuild"],
        env=base_env(MINQING_DATA_DIR=str(tmp_path)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "embedded" in done.stderr
