"""A case walked through its whole life over the real services texts every step once.

`minqing serve` for intake, routing and notify on PostgreSQL and RabbitMQ; staff act through
routing's HTTP API and the citizen through intake's.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.routing.models import WorkOrder
from tests.integration.staffing import Site, running_site, wait_for
from tests.support import case_payload, read_sms

pytestmark = pytest.mark.e2e

CITIZEN = "13900004444"
# The education bureau's liaison officer in routing/data/catalogue.toml.
EDU_LIAISON = "13900000101"
SCHOOL = "学校 转学：孩子转学手续办了两个月还没办好"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    names = ("intake", "routing", "notify")
    with running_site(names, tmp_path_factory.mktemp("case-life")) as site:
        site.add_staff("h.edu", "handler", name="教育局张", department="edu", unit="县教育局")
        site.add_staff("d.chen", "dispatcher", name="陈调度")
        yield site


def lead_order(site: Site, tracking_no: str) -> WorkOrder:
    def found() -> WorkOrder | None:
        with site.database("routing") as database, database.session() as session:
            order = session.scalars(
                select(WorkOrder).where(
                    WorkOrder.tracking_no == tracking_no, WorkOrder.role == "lead"
                )
            ).first()
            if order is not None:
                session.expunge(order)
            return order

    order: WorkOrder = wait_for(found)
    return order


def act(client: httpx.Client, order_id: uuid.UUID, action: str, **body: Any) -> None:
    response = client.post(f"/api/v1/work-orders/{order_id}/{action}", json=body)
    assert response.status_code == 200, response.text


def messages_of(site: Site, tracking_no: str) -> list[dict[str, Any]]:
    return [m for m in read_sms(site.sms_path) if m["tracking_no"] == tracking_no]


def arrived(site: Site, tracking_no: str, template: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        matching = [m for m in messages_of(site, tracking_no) if m["template"] == template]
        return matching[0] if matching else None

    message: dict[str, Any] = wait_for(found)
    return message


def test_a_case_walked_through_its_whole_life_texts_every_step_once(site: Site) -> None:
    payload = case_payload(f"{SCHOOL}（{uuid.uuid4().hex[:8]}）", contact={"phone": CITIZEN})
    response = httpx.post(f"{site.url('intake')}/api/v1/cases", json=payload, timeout=30)
    assert response.status_code == 201, response.text
    case = response.json()
    tracking_no = case["tracking_no"]
    order = lead_order(site, tracking_no)
    arrived(site, tracking_no, "case_dispatched")

    with site.client("routing", "h.edu") as edu:
        act(edu, order.id, "sign-for")
        arrived(site, tracking_no, "case_accepted")
        act(edu, order.id, "request-material", reason="请补充：户口本复印件、原学校证明")
    arrived(site, tracking_no, "case_material_requested")
    supplemented = httpx.post(
        f"{site.url('intake')}/api/v1/cases/{tracking_no}/supplements",
        data={"access_code": case["access_code"], "text": "户口本复印件和证明已上传"},
        timeout=30,
    )
    assert supplemented.status_code == 201, supplemented.text
    wait_for(lambda: lead_order(site, tracking_no).status == "in_progress")

    new_due = date.today() + timedelta(days=40)
    with site.client("routing", "h.edu") as edu:
        act(edu, order.id, "request-extension", new_due=str(new_due), reason="需与原学校核实学籍")
    with site.client("routing", "d.chen") as dispatcher:
        act(dispatcher, order.id, "approve-extension")
    extended = arrived(site, tracking_no, "case_extended")
    assert "需与原学校核实学籍" in extended["text"]
    assert f"{new_due.month}月{new_due.day}日" in extended["text"]

    with site.client("routing", "h.edu") as edu:
        act(edu, order.id, "resolve", reply="已为您办理转学手续，请于周五到校报到。")
    arrived(site, tracking_no, "case_resolved")
    wait_for(
        lambda: (
            httpx.get(
                f"{site.url('intake')}/api/v1/cases/{tracking_no}",
                params={"access_code": case["access_code"]},
            ).json()["status"]
            == "resolved"
        )
    )
    rated = httpx.post(
        f"{site.url('intake')}/api/v1/cases/{tracking_no}/rating",
        json={"access_code": case["access_code"], "rating": "satisfied", "comment": None},
        timeout=30,
    )
    assert rated.status_code == 201, rated.text
    arrived(site, tracking_no, "case_revisited")

    # Nothing more comes: each step once, to the citizen, and the work order to the liaison.
    time.sleep(2)
    sent = Counter((m["to"], m["template"]) for m in messages_of(site, tracking_no))
    assert sent == Counter(
        {
            (CITIZEN, "case_received"): 1,
            (CITIZEN, "case_dispatched"): 1,
            (CITIZEN, "case_accepted"): 1,
            (CITIZEN, "case_material_requested"): 1,
            (CITIZEN, "case_extended"): 1,
            (CITIZEN, "case_resolved"): 1,
            (CITIZEN, "case_revisited"): 1,
            (EDU_LIAISON, "work_order_arrived"): 1,
        }
    )
    for message in messages_of(site, tracking_no):
        budget = 2 if message["template"] == "case_material_requested" else 1
        assert message["segments"] <= budget, message
        assert message["text"].startswith("【民情12345】")
