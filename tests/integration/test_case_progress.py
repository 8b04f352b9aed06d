"""Notify's view of where each case stands, kept from events in batches."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services import notify
from services.kernel.config import Settings
from services.kernel.runtime import ServiceRuntime
from services.notify.models import CaseProgress
from tests.support import assigned, publish_envelopes, submitted_event, wait_until

pytestmark = pytest.mark.integration


def test_a_case_submitted_and_dispatched_in_one_batch_ends_dispatched(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    runtime.start()
    running.append(runtime)
    assert runtime.wait_ready()
    first, second = submitted_event(1), submitted_event(2)
    # The department's deadline differs from the date promised on submission, so the test
    # tells which event set the case's deadline.
    dispatched = assigned(second.case_id, second.tracking_no).model_copy(
        update={"deadline": date(2026, 12, 28)}
    )
    # Published together, they reach the handler in one batch: the second case's row is new
    # when its `case.assigned` is handled, and must be the one its `case.submitted` created.
    publish_envelopes(
        settings.broker_url,
        [
            first.envelope(producer="intake", case_id=first.case_id),
            second.envelope(producer="intake", case_id=second.case_id),
            dispatched.envelope(producer="routing", case_id=second.case_id),
        ],
    )

    def progress() -> dict[uuid.UUID, tuple[str, date | None]]:
        with runtime.database.session() as session:
            rows = session.query(CaseProgress).all()
            return {row.case_id: (row.status, row.deadline) for row in rows}

    expected = {
        first.case_id: ("received", first.promised_date),
        second.case_id: ("dispatched", date(2026, 12, 28)),
    }
    wait_until(lambda: progress() == expected, 20)
