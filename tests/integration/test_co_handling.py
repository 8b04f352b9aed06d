"""The dispatch path's entry for lead and co-handling departments (会诊), on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.__main__ import SPECS
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseSubmitted, Contact
from services.kernel.outbox import outbox
from services.kernel.runtime import ServiceRuntime
from services.routing.catalogue import load_catalogue, sync_catalogue
from services.routing.models import WorkOrder, WorkOrderAudit
from services.routing.work_orders import open_work_orders

pytestmark = pytest.mark.integration


def submitted() -> CaseSubmitted:
    return CaseSubmitted(
        case_id=uuid.uuid4(),
        tracking_no="20261201-000001",
        access_code="ABCDEF",
        channel="web",
        kind="complaint",
        category=None,
        description="化工厂偷排污水，学校学生闻到异味",
        location=None,
        contact=Contact(),
        submitted_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        promised_date=date(2026, 12, 18),
    )


def test_a_lead_and_its_co_orders_each_reach_their_department_queue(settings: Settings) -> None:
    runtime = ServiceRuntime(SPECS["routing"], settings)
    event = submitted()
    try:
        with runtime.work() as work:
            sync_catalogue(work.session, load_catalogue())
        with runtime.work() as work:
            open_work_orders(
                work,
                event,
                "env",
                ("edu", "health", "env"),
                "rule:pollution",
                columns={"supervised": True},
            )
        with runtime.database.session() as session:
            orders = session.scalars(
                select(WorkOrder).where(WorkOrder.case_id == event.case_id)
            ).all()
            sent = session.execute(
                select(outbox.c.event_type, outbox.c.exchange, outbox.c.routing_key).where(
                    outbox.c.case_id == event.case_id
                )
            ).all()
            audited = session.scalars(select(WorkOrderAudit.action)).all()
    finally:
        runtime.relay.database.dispose()
        runtime.database.dispose()
    by_role = {(o.role, o.department_code): o for o in orders}
    # The lead itself among the co departments is not doubled.
    assert set(by_role) == {("lead", "env"), ("co", "edu"), ("co", "health")}
    lead = by_role["lead", "env"]
    assert all(o.parent_id == lead.id for o in orders if o.role == "co")
    # What the decision adds lands on the lead only.
    assert [o.supervised for o in orders if o.role == "co"] == [False, False]
    assert lead.supervised
    assert {o.status for o in orders} == {"dispatched"}
    assert sorted(audited) == ["route", "route", "route"]
    to_departments = sorted(
        (kind, key) for kind, exchange, key in sent if exchange == "minqing.departments"
    )
    assert to_departments == [
        ("case.assigned", "env"),
        ("case.co_assigned", "edu"),
        ("case.co_assigned", "health"),
    ]
