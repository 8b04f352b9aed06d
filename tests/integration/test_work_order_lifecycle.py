"""Work orders move through the lifecycle over routing's real HTTP API, on PostgreSQL and RabbitMQ.

Each refusal (another department's order 404, the wrong role 403, the wrong state 409, a missing
field 422) is shown to change nothing: neither the order, nor its audit trail, nor the outbox.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.kernel.outbox import outbox
from services.routing.models import WorkOrder, WorkOrderAudit
from tests.integration.staffing import Site, running_site, wait_for
from tests.support import case_payload

pytestmark = pytest.mark.e2e

SCHOOL = "学校 转学：孩子转学手续办了两个月还没办好"
UNCLEAR = "村口那件事一直没人管，希望有人来看看"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("lifecycle")) as site:
        site.add_staff("h.edu", "handler", name="教育局张", department="edu", unit="县教育局")
        site.add_staff("h.env", "handler", name="环保局李", department="env", unit="县生态环境局")
        site.add_staff("h.housing", "handler", name="住建局王", department="housing")
        site.add_staff("d.chen", "dispatcher", name="陈调度")
        yield site


def submit(site: Site, description: str) -> dict[str, Any]:
    marker = uuid.uuid4().hex[:8]
    payload = case_payload(f"{description}（{marker}）", contact={"phone": "13900001111"})
    response = httpx.post(f"{site.url('intake')}/api/v1/cases", json=payload, timeout=30)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def order_of(site: Site, tracking_no: str, role: str = "lead") -> WorkOrder:
    def found() -> WorkOrder | None:
        with site.database("routing") as database, database.session() as session:
            order = session.scalars(
                select(WorkOrder).where(
                    WorkOrder.tracking_no == tracking_no, WorkOrder.role == role
                )
            ).first()
            if order is not None:
                session.expunge(order)
            return order

    order: WorkOrder = wait_for(found)
    return order


def snapshot(site: Site, order_id: uuid.UUID) -> tuple[Any, ...]:
    """What a refusal must leave alone: the order's row, its audit trail, routing's outbox."""
    with site.database("routing") as database, database.session() as session:
        order = session.get(WorkOrder, order_id)
        assert order is not None
        audits = session.scalar(
            select(func.count()).where(WorkOrderAudit.work_order_id == order_id)
        )
        events = session.scalar(select(func.count()).select_from(outbox))
        return (
            order.status,
            order.department_code,
            order.deadline,
            order.updated_at,
            audits,
            events,
        )


def post(client: httpx.Client, order_id: uuid.UUID, action: str, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/work-orders/{order_id}/{action}", json=body)


def events_of(site: Site, case_id: uuid.UUID) -> list[str]:
    statement = (
        select(outbox.c.event_type)
        .where(outbox.c.case_id == case_id, outbox.c.exchange == "minqing.events")
        .order_by(outbox.c.id)
    )
    return [row[0] for row in site.rows("routing", statement)]


def test_a_department_works_its_order_from_sign_for_to_resolution(site: Site) -> None:
    case = submit(site, SCHOOL)
    order = order_of(site, case["tracking_no"])
    assert (order.status, order.department_code) == ("dispatched", "edu")
    with site.client("routing", "h.edu") as edu:
        queue = edu.get("/api/v1/workbench/orders").json()
        assert order.id in [uuid.UUID(o["id"]) for o in queue]
        assert [o["deadline"] for o in queue] == sorted(o["deadline"] for o in queue)
        mine = next(o for o in queue if o["id"] == str(order.id))
        assert mine["actions"] == ["sign-for", "return"]

        signed = post(edu, order.id, "sign-for")
        assert signed.status_code == 200, signed.text
        assert signed.json()["status"] == "signed_for"
        noted = post(edu, order.id, "progress", reason="已联系学校，约定周三办理")
        assert noted.json()["status"] == "in_progress"
        asked = post(edu, order.id, "request-material", reason="请补充：户口本复印件、原学校证明")
        assert asked.json()["status"] == "awaiting_citizen"

    # The citizen's view says what is missing, in the department's one list, and the promise
    # is the date fixed at dispatch.
    view = wait_for(
        lambda: (
            (v := citizen_view(site, case))["timeline"][-1]["status"] == "material_requested" and v
        )
    )
    assert view["timeline"][-1]["note"] == "请补充：户口本复印件、原学校证明"
    assert view["promised_date"] == str(order.deadline)

    # The citizen adds the material through intake; routing resumes the order on the event.
    supplemented = httpx.post(
        f"{site.url('intake')}/api/v1/cases/{case['tracking_no']}/supplements",
        data={"access_code": case["access_code"], "text": "户口本复印件和证明已上传"},
        timeout=30,
    )
    assert supplemented.status_code == 201, supplemented.text
    wait_for(lambda: order_of(site, case["tracking_no"]).status == "in_progress")

    with site.client("routing", "h.edu") as edu:
        done = post(edu, order.id, "resolve", reply="已为您办理转学手续，请于周五到校报到。")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "resolved"
        detail = edu.get(f"/api/v1/work-orders/{order.id}").json()

    trail = [(a["action"], a["from_status"], a["to_status"]) for a in detail["audit"]]
    assert trail == [
        ("route", "registered", "dispatched"),
        ("sign_for", "dispatched", "signed_for"),
        ("progress", "signed_for", "in_progress"),
        ("request_material", "in_progress", "awaiting_citizen"),
        ("supplement", "awaiting_citizen", "in_progress"),
        ("resolve", "in_progress", "resolved"),
    ]
    assert detail["audit"][1]["actor_name"] == "教育局张"
    assert detail["audit"][1]["actor_role"] == "handler"
    assert detail["audit"][4]["actor_role"] == "system"
    assert events_of(site, order.case_id) == [
        "case.assigned",
        "case.accepted",
        "case.progressed",
        "case.material_requested",
        "case.resumed",
        "case.resolved",
    ]
    # Intake still understands case.resolved: the citizen sees the reply.
    with httpx.Client(base_url=site.url("intake"), timeout=30) as intake:

        def citizen_sees_resolution() -> bool:
            found = intake.get(
                f"/api/v1/cases/{case['tracking_no']}",
                params={"access_code": case["access_code"]},
            )
            return found.status_code == 200 and found.json()["status"] == "resolved"

        wait_for(citizen_sees_resolution)


def test_refusals_are_404_403_409_422_and_change_nothing(site: Site) -> None:
    case = submit(site, SCHOOL)
    order = order_of(site, case["tracking_no"])
    before = snapshot(site, order.id)
    with site.client("routing", "h.env") as env:
        assert env.get(f"/api/v1/work-orders/{order.id}").status_code == 404
        other = post(env, order.id, "sign-for")
        assert other.status_code == 404, other.text
        assert order.id not in [o["id"] for o in env.get("/api/v1/workbench/orders").json()]
    with site.client("routing", "d.chen") as dispatcher:
        wrong_role = post(dispatcher, order.id, "sign-for")
        assert wrong_role.status_code == 403
        assert "handler" in wrong_role.json()["detail"]
        assert dispatcher.get("/api/v1/workbench/orders").status_code == 403
    with site.client("routing", "h.edu") as edu:
        wrong_state = post(edu, order.id, "resolve", reply="done")
        assert wrong_state.status_code == 409
        assert "dispatched" in wrong_state.json()["detail"]
        dispatcher_only = post(edu, order.id, "approve-extension")
        assert dispatcher_only.status_code == 403
        no_code = post(edu, order.id, "return", legal_basis="不属于本部门职责")
        assert no_code.status_code == 422
        assert "reason_code" in no_code.json()["detail"]
        bad_code = post(edu, order.id, "return", reason_code="too-busy", legal_basis="x")
        assert bad_code.status_code == 422
        assert post(edu, order.id, "teleport").status_code == 404
    assert snapshot(site, order.id) == before
    with site.client("routing", "h.edu") as edu:
        assert post(edu, order.id, "sign-for").status_code == 200
        no_note = post(edu, order.id, "progress")
        assert no_note.status_code == 422
        assert "`reason`" in no_note.json()["detail"]
        too_early = post(
            edu, order.id, "request-extension", new_due=str(order.deadline), reason="x"
        )
        assert too_early.status_code == 422
        again = post(edu, order.id, "sign-for")
        assert again.status_code == 409


def test_an_extension_is_requested_and_decided_by_the_dispatcher(site: Site) -> None:
    case = submit(site, SCHOOL)
    order = order_of(site, case["tracking_no"])
    new_due = order.deadline + timedelta(days=10)
    with site.client("routing", "h.edu") as edu:
        assert post(edu, order.id, "sign-for").status_code == 200
        asked = post(edu, order.id, "request-extension", new_due=str(new_due), reason="需现场勘查")
        assert asked.json()["status"] == "extension_requested"
        assert post(edu, order.id, "approve-extension").status_code == 403
    with site.client("routing", "d.chen") as dispatcher:
        waiting = dispatcher.get("/api/v1/console/extensions").json()
        listed = next(o for o in waiting if o["id"] == str(order.id))
        assert (listed["requested_due"], listed["review_note"]) == (str(new_due), "需现场勘查")
        approved = post(dispatcher, order.id, "approve-extension")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "in_progress"
        assert approved.json()["deadline"] == str(new_due)
        assert post(dispatcher, order.id, "approve-extension").status_code == 409
    with site.client("routing", "h.edu") as edu:
        later = new_due + timedelta(days=5)
        again = post(edu, order.id, "request-extension", new_due=str(later), reason="仍需协调")
        assert again.status_code == 200
    with site.client("routing", "d.chen") as dispatcher:
        refused = post(dispatcher, order.id, "refuse-extension")
        assert refused.status_code == 422
        refused = post(dispatcher, order.id, "refuse-extension", reason="请按期办结")
        assert refused.json()["deadline"] == str(new_due)
    # The citizen's view has the approved date, once; a refusal changes nothing for them.
    view = wait_for(lambda: (v := citizen_view(site, case))["promised_date"] == str(new_due) and v)
    assert [e["note"] for e in view["timeline"] if e["status"] == "extended"] == [str(new_due)]
    assert events_of(site, order.case_id)[-4:] == [
        "case.extension_requested",
        "case.extension_decided",
        "case.extension_requested",
        "case.extension_decided",
    ]


def test_a_return_is_reviewed_redispatched_or_overruled(site: Site) -> None:
    case = submit(site, SCHOOL)
    order = order_of(site, case["tracking_no"])
    with site.client("routing", "h.edu") as edu:
        returned = post(
            edu,
            order.id,
            "return",
            reason_code="wrong-function",
            legal_basis="《县住建局职能配置规定》第三条：校外道路施工属住建局",
        )
        assert returned.status_code == 200, returned.text
        assert returned.json()["status"] == "returned"
        assert post(edu, order.id, "sign-for").status_code == 409
    with site.client("routing", "d.chen") as dispatcher:
        review = dispatcher.get("/api/v1/console/returns").json()
        listed = next(o for o in review if o["id"] == str(order.id))
        assert listed["return_code"] == "wrong-function"
        assert listed["actions"] == ["redispatch", "overrule"]
        same = post(dispatcher, order.id, "redispatch", department_code="edu")
        assert same.status_code == 422
        moved = post(dispatcher, order.id, "redispatch", department_code="housing")
        assert moved.status_code == 200, moved.text
        assert (moved.json()["status"], moved.json()["department_code"]) == (
            "dispatched",
            "housing",
        )
    with site.client("routing", "h.edu") as edu:
        assert edu.get(f"/api/v1/work-orders/{order.id}").status_code == 404
    with site.client("routing", "h.housing") as housing:
        assert post(housing, order.id, "sign-for").status_code == 200
        back = post(housing, order.id, "return", reason_code="wrong-territory", reason="非本县")
        assert back.status_code == 200
    with site.client("routing", "d.chen") as dispatcher:
        kept = post(dispatcher, order.id, "overrule", reason="属本县城关镇，请办理")
        assert kept.json()["status"] == "dispatched"
        assert kept.json()["department_code"] == "housing"
    assert events_of(site, order.case_id).count("case.assigned") == 3
    bodies = site.rows(
        "routing",
        select(outbox.c.body)
        .where(
            outbox.c.case_id == order.case_id,
            outbox.c.event_type == "case.assigned",
            outbox.c.exchange == "minqing.departments",
        )
        .order_by(outbox.c.id),
    )
    chosen_by = [json.loads(body)["data"]["matched_by"] for (body,) in bodies]
    assert chosen_by[0].startswith("keywords:")
    assert chosen_by[1] == chosen_by[2]
    assert chosen_by[1].startswith("dispatcher:")


def test_manual_dispatch_with_co_handling_resolves_the_case_with_its_lead(site: Site) -> None:
    case = submit(site, UNCLEAR)
    lead = order_of(site, case["tracking_no"])
    assert lead.status == "awaiting_dispatch"
    with site.client("routing", "d.chen") as dispatcher:
        manual = dispatcher.get("/api/v1/console/manual").json()
        assert str(lead.id) in [o["id"] for o in manual]
        with site.client("routing", "h.edu") as edu:
            assert post(edu, lead.id, "dispatch", department_code="edu").status_code == 404
        dispatched = post(
            dispatcher, lead.id, "dispatch", department_code="edu", co_department_codes=["env"]
        )
        assert dispatched.status_code == 200, dispatched.text
    co = order_of(site, case["tracking_no"], role="co")
    assert (co.department_code, co.parent_id, co.status) == ("env", lead.id, "dispatched")
    with site.client("routing", "h.edu") as edu:
        assert post(edu, lead.id, "sign-for").status_code == 200
        early = post(edu, lead.id, "resolve", reply="已处理")
        assert early.status_code == 409
        assert str(co.id) in early.json()["detail"]
    with site.client("routing", "h.env") as env:
        assert post(env, co.id, "sign-for").status_code == 200
        assert post(env, co.id, "resolve", reply="环境部分已整改").json()["status"] == "resolved"
    with site.client("routing", "h.edu") as edu:
        assert post(edu, lead.id, "resolve", reply="已处理").json()["status"] == "resolved"
    kinds = events_of(site, lead.case_id)
    assert kinds.count("case.resolved") == 1
    assert "case.co_assigned" in kinds
    assert "case.co_resolved" in kinds


def test_a_dissatisfied_rating_rehandles_and_the_second_goes_to_supervision(site: Site) -> None:
    case = submit(site, SCHOOL)
    order = order_of(site, case["tracking_no"])
    with site.client("routing", "h.edu") as edu:
        post(edu, order.id, "sign-for")
        assert post(edu, order.id, "resolve", reply="已办结").status_code == 200
    wait_for(lambda: intake_status(site, case) == "resolved")
    rated = httpx.post(
        f"{site.url('intake')}/api/v1/cases/{case['tracking_no']}/rating",
        json={"access_code": case["access_code"], "rating": "dissatisfied", "comment": "没解决"},
        timeout=30,
    )
    assert rated.status_code == 201, rated.text
    wait_for(lambda: order_of(site, case["tracking_no"]).status == "in_progress")
    again = order_of(site, case["tracking_no"])
    assert (again.rehandles, again.supervised) == (1, False)
    # A second dissatisfied rating (by the dispatcher's callback here) escalates.
    with site.client("routing", "h.edu") as edu:
        assert post(edu, order.id, "resolve", reply="再次办结").status_code == 200
    with site.client("routing", "d.chen") as dispatcher:
        rehandled = post(dispatcher, order.id, "rehandle", reason="回访仍不满意")
        assert rehandled.json()["supervised"] is True
        assert rehandled.json()["rehandles"] == 2
        with site.client("routing", "h.edu") as edu:
            post(edu, order.id, "resolve", reply="第三次办结")
        assert post(dispatcher, order.id, "close").status_code == 409
        assert post(dispatcher, order.id, "revisit").json()["status"] == "revisited"
        assert post(dispatcher, order.id, "close").json()["status"] == "closed"
    assert events_of(site, order.case_id)[-3:] == ["case.resolved", "case.revisited", "case.closed"]


def citizen_view(site: Site, case: dict[str, Any]) -> dict[str, Any]:
    found = httpx.get(
        f"{site.url('intake')}/api/v1/cases/{case['tracking_no']}",
        params={"access_code": case["access_code"]},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    view: dict[str, Any] = found.json()
    return view


def intake_status(site: Site, case: dict[str, Any]) -> str:
    found = httpx.get(
        f"{site.url('intake')}/api/v1/cases/{case['tracking_no']}",
        params={"access_code": case["access_code"]},
        timeout=30,
    )
    return str(found.json().get("status")) if found.status_code == 200 else ""


def test_overdue_and_due_soon_are_marked_on_the_workbench(site: Site) -> None:
    late, soon = submit(site, SCHOOL), submit(site, SCHOOL)
    late_order, soon_order = (
        order_of(site, late["tracking_no"]),
        order_of(site, soon["tracking_no"]),
    )
    with site.database("routing") as database, database.session() as session:
        session.get(WorkOrder, late_order.id).deadline = date.today() - timedelta(days=3)  # type: ignore[union-attr]
        session.get(WorkOrder, soon_order.id).deadline = date.today() + timedelta(days=1)  # type: ignore[union-attr]
        session.commit()
    with site.client("routing", "h.edu") as edu:
        queue = edu.get("/api/v1/workbench/orders").json()
    by_id = {o["id"]: o for o in queue}
    assert (by_id[str(late_order.id)]["overdue"], by_id[str(late_order.id)]["due_soon"]) == (
        True,
        False,
    )
    assert by_id[str(soon_order.id)]["due_soon"] is True
    assert queue[0]["id"] == str(late_order.id)


def test_a_dispatcher_cannot_push_a_functional_matter_down_to_a_village(site: Site) -> None:
    case = submit(site, UNCLEAR)
    order = order_of(site, case["tracking_no"])
    before = snapshot(site, order.id)
    with site.client("routing", "d.chen") as dispatcher:
        refused = post(
            dispatcher, order.id, "dispatch", department_code="taoyuan", co_department_codes=["env"]
        )
        assert refused.status_code == 409
        assert "village" in refused.json()["detail"]
        assert snapshot(site, order.id) == before
        # The village may lead a matter that is its own.
        assert post(dispatcher, order.id, "dispatch", department_code="taoyuan").status_code == 200


def batch(client: httpx.Client, *actions: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/work-orders/actions", json={"actions": list(actions)})


def test_a_batch_moves_several_orders_at_once_or_none_of_them(site: Site) -> None:
    first, second, third = (order_of(site, submit(site, SCHOOL)["tracking_no"]) for _ in range(3))
    other = order_of(site, submit(site, "河道 排污：工厂夜里往河里排黑水")["tracking_no"])
    assert other.department_code != "edu"
    before = [snapshot(site, o.id) for o in (first, second, third)]
    with site.client("routing", "h.edu") as edu:
        # One refused action (the third order cannot be resolved before it is signed for)
        # refuses the batch, says which action, and leaves every order as it was.
        refused = batch(
            edu,
            {"order_id": str(first.id), "action": "sign-for"},
            {"order_id": str(second.id), "action": "sign-for"},
            {"order_id": str(third.id), "action": "resolve", "reply": "已办结"},
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"].startswith(f"action 2 (resolve on {third.id})")
        assert "nothing was changed" in refused.json()["detail"]
        assert [snapshot(site, o.id) for o in (first, second, third)] == before
        # Another department's order is as absent in a batch as on its own.
        foreign = batch(
            edu,
            {"order_id": str(first.id), "action": "sign-for"},
            {"order_id": str(other.id), "action": "sign-for"},
        )
        assert foreign.status_code == 404
        assert str(other.id) in foreign.json()["detail"]
        assert snapshot(site, first.id) == before[0]
        # Field errors name the action's place in the batch.
        invalid = batch(edu, {"order_id": "not-a-uuid", "action": "sign-for"})
        assert invalid.status_code == 422
        assert batch(edu).status_code == 422

        done = batch(
            edu,
            {"order_id": str(first.id), "action": "sign-for"},
            {"order_id": str(second.id), "action": "sign-for"},
            {"order_id": str(first.id), "action": "progress", "reason": "已联系学校"},
            {"order_id": str(third.id), "action": "sign-for"},
        )
        assert done.status_code == 200, done.text
        statuses = [(o["id"], o["status"]) for o in done.json()["orders"]]
        assert statuses == [
            (str(first.id), "signed_for"),
            (str(second.id), "signed_for"),
            (str(first.id), "in_progress"),
            (str(third.id), "signed_for"),
        ]
    with site.client("routing", "d.chen") as dispatcher:
        assert (
            batch(dispatcher, {"order_id": str(second.id), "action": "progress"}).status_code == 403
        )
    # Each action is audited and published as it would be on its own.
    with site.database("routing") as database, database.session() as session:
        trail = session.scalars(
            select(WorkOrderAudit.action)
            .where(WorkOrderAudit.work_order_id == first.id)
            .order_by(WorkOrderAudit.id)
        ).all()
    assert trail[-2:] == ["sign_for", "progress"]
    assert events_of(site, first.case_id)[-2:] == ["case.accepted", "case.progressed"]
