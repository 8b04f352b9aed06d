"""The workbench and console pages: lists, and forms posting to the same actions as the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from services.routing.models import WorkOrder
from tests.integration.staffing import PASSWORD, Site, running_site, wait_for
from tests.support import case_payload

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("pages")) as site:
        site.add_staff("h.edu", "handler", name="教育局张", department="edu")
        site.add_staff("d.chen", "dispatcher", name="陈调度")
        yield site


@contextmanager
def signed_in(site: Site, username: str) -> Iterator[httpx.Client]:
    """A browser-like client holding the sign-in cookie."""
    with httpx.Client(base_url=site.url("routing"), timeout=30) as client:
        response = client.post("/staff/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.text
        yield client


def school_order(site: Site) -> tuple[str, uuid.UUID]:
    payload = case_payload(f"学校 转学手续一直办不下来（{uuid.uuid4().hex[:8]}）")
    response = httpx.post(f"{site.url('intake')}/api/v1/cases", json=payload, timeout=30)
    tracking_no = str(response.json()["tracking_no"])
    statement = select(WorkOrder.id).where(WorkOrder.tracking_no == tracking_no)
    order_id: uuid.UUID = wait_for(lambda: site.scalar("routing", statement))
    return tracking_no, order_id


def status(site: Site, order_id: uuid.UUID) -> tuple[str, str | None]:
    with site.database("routing") as database, database.session() as session:
        order = session.get(WorkOrder, order_id)
        assert order is not None
        return order.status, order.department_code


def test_the_workbench_page_lists_the_queue_and_its_forms_move_orders(site: Site) -> None:
    tracking_no, order_id = school_order(site)
    anonymous = httpx.get(f"{site.url('routing')}/staff/workbench", timeout=30)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/staff/login")
    with signed_in(site, "h.edu") as handler:
        page = handler.get("/staff/workbench")
        assert page.status_code == 200
        assert tracking_no in page.text
        assert "签收" in page.text
        assert "Sign for" in handler.get("/staff/workbench?lang=en").text
        form = f"/staff/work-orders/{order_id}/sign-for"
        moved = handler.post(form, data={"back": "/staff/workbench"})
        assert moved.status_code == 303
        assert moved.headers["location"] == "/staff/workbench"
        assert status(site, order_id) == ("signed_for", "edu")
        refused = handler.post(f"/staff/work-orders/{order_id}/resolve", data={"reason": ""})
        assert "error=" in refused.headers["location"]
        assert status(site, order_id) == ("signed_for", "edu")
        shown = handler.get(refused.headers["location"])
        assert "the reply to the citizen" in shown.text
        returned = handler.post(
            f"/staff/work-orders/{order_id}/return",
            data={"reason_code": "wrong-function", "reason": "非本部门职能"},
        )
        assert "error" not in returned.headers["location"]
        assert status(site, order_id) == ("returned", "edu")
        assert handler.get("/staff/console").status_code == 403


def test_the_console_page_shows_returns_and_redispatches_by_form(site: Site) -> None:
    tracking_no, order_id = school_order(site)
    with signed_in(site, "h.edu") as handler:
        handler.post(
            f"/staff/work-orders/{order_id}/return",
            data={"reason_code": "wrong-territory", "reason": "不属本县"},
        )
    with signed_in(site, "d.chen") as dispatcher:
        page = dispatcher.get("/staff/console")
        assert page.status_code == 200
        assert tracking_no in page.text
        assert "wrong-territory: 不属本县" in page.text
        assert "退单审核" in page.text
        moved = dispatcher.post(
            f"/staff/work-orders/{order_id}/redispatch",
            data={"department_code": "housing", "back": "/staff/console"},
        )
        assert moved.headers["location"] == "/staff/console"
        assert status(site, order_id) == ("dispatched", "housing")
        assert dispatcher.get("/staff/workbench").status_code == 403


def test_the_console_page_revisits_and_closes_a_resolved_order(site: Site) -> None:
    tracking_no, order_id = school_order(site)
    with signed_in(site, "h.edu") as handler:
        handler.post(f"/staff/work-orders/{order_id}/sign-for")
        handler.post(f"/staff/work-orders/{order_id}/resolve", data={"reason": "已办结"})
    assert status(site, order_id) == ("resolved", "edu")
    with signed_in(site, "d.chen") as dispatcher:
        page = dispatcher.get("/staff/console?lang=en")
        assert "To revisit" in page.text
        assert tracking_no in page.text
        back = {"back": "/staff/console"}
        early = dispatcher.post(f"/staff/work-orders/{order_id}/close", data=back)
        assert "error=" in early.headers["location"]
        assert status(site, order_id) == ("resolved", "edu")
        dispatcher.post(f"/staff/work-orders/{order_id}/revisit", data=back)
        dispatcher.post(f"/staff/work-orders/{order_id}/close", data=back)
        assert status(site, order_id) == ("closed", "edu")


def test_the_workbench_page_signs_for_the_ticked_orders_at_once(site: Site) -> None:
    (_, first), (_, second), (_, third) = (school_order(site) for _ in range(3))
    with signed_in(site, "h.edu") as handler:
        page = handler.get("/staff/workbench").text
        assert 'form="sign-selected"' in page
        assert f'value="{first}"' in page
        empty = handler.post("/staff/workbench/sign-for", data={})
        assert "error=" in empty.headers["location"]
        done = handler.post(
            "/staff/workbench/sign-for", data={"order_id": [str(first), str(second)]}
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/staff/workbench"
        assert status(site, first)[0] == status(site, second)[0] == "signed_for"
        assert status(site, third)[0] == "dispatched"
        # One order no longer waiting for a signature refuses the lot, and the page says why.
        refused = handler.post(
            "/staff/workbench/sign-for", data={"order_id": [str(first), str(third)]}
        )
        assert "error=" in refused.headers["location"]
        assert status(site, third)[0] == "dispatched"
        shown = handler.get(refused.headers["location"]).text
        assert "nothing was changed" in shown
