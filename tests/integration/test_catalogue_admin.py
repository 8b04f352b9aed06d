"""The dispatch catalogue through routing's real HTTP API: admin edits, audit, effective dates,
the village guard, and a major matter reaching every department concerned through the bus."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.intake.models import CatalogueCategory
from services.kernel.clock import utcnow
from services.kernel.workdays import local_date
from services.routing.models import CatalogueChange, DispatchRuleVersion, WorkOrder
from tests.integration.cross_channel import EventTap
from tests.integration.staffing import Site, running_site, wait_for
from tests.support import case_payload

pytestmark = pytest.mark.e2e
LIAISON_PHONE = "13700001234"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("catalogue")) as site:
        site.add_staff("admin.li", "admin", name="李管理")
        site.add_staff("disp.chen", "dispatcher", name="陈调度")
        site.add_staff("op.wang", "operator", name="王丽")
        yield site


@pytest.fixture(scope="module")
def admin(site: Site) -> Iterator[httpx.Client]:
    with site.client("routing", "admin.li") as client:
        yield client


@pytest.fixture(scope="module")
def dispatcher(site: Site) -> Iterator[httpx.Client]:
    with site.client("routing", "disp.chen") as client:
        yield client


def counts(site: Site) -> tuple[int, int]:
    rules = site.scalar("routing", select(func.count()).select_from(DispatchRuleVersion))
    changes = site.scalar("routing", select(func.count()).select_from(CatalogueChange))
    return rules, changes


def rule(key: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "lead_department": "housing", "keywords": ["井盖"], **fields}


def test_a_non_admin_gets_403_and_nothing_is_written(site: Site, dispatcher: httpx.Client) -> None:
    before = counts(site)

    response = dispatcher.post("/api/v1/catalogue/rules", json=rule("by-dispatcher"))

    assert response.status_code == 403
    assert counts(site) == before
    assert httpx.get(f"{site.url('routing')}/api/v1/catalogue/rules").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rule("Bad Key"), "key"),
        (rule("no-lead", lead_department="nobody"), "lead_department"),
        (rule("co-is-lead", co_departments=["housing"]), "co_departments.0"),
        (rule("no-condition", keywords=[]), "keywords"),
        (rule("bad-scope", scope_level="county"), "scope_level"),
        (
            rule("backwards", effective_from="2026-05-01", effective_to="2026-04-30"),
            "effective_to",
        ),
        (rule("bad-place", territory="nowhere"), "territory"),
    ],
)
def test_bad_input_gets_a_field_level_422_and_nothing_is_written(
    site: Site, admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = counts(site)

    response = admin.post("/api/v1/catalogue/rules", json=body)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["detail"]] == [field]
    assert counts(site) == before


def test_the_guard_refuses_a_rule_pushing_a_functional_matter_down_to_a_village(
    site: Site, admin: httpx.Client
) -> None:
    before = counts(site)

    response = admin.post(
        "/api/v1/catalogue/rules",
        json=rule("push-down", category="城乡建设", lead_department="taoyuan", keywords=[]),
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "lead_department"
    assert "village-tier" in error["message"]
    assert counts(site) == before


def test_an_edit_adds_a_version_audited_with_before_and_after_and_dates_decide(
    site: Site, admin: httpx.Client, dispatcher: httpx.Client
) -> None:
    today = local_date(utcnow())
    tomorrow = today + timedelta(days=1)
    created = admin.post("/api/v1/catalogue/rules", json=rule("manholes", co_departments=["yuexi"]))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1

    edited = admin.put(
        "/api/v1/catalogue/rules/manholes",
        json={
            "lead_department": "transport",
            "keywords": ["井盖"],
            "effective_from": tomorrow.isoformat(),
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2

    def lead_on(day: object) -> list[str]:
        found = dispatcher.get("/api/v1/catalogue/rules", params={"on": str(day)}).json()
        return [r["lead_department"] for r in found if r["key"] == "manholes"]

    assert lead_on(today) == ["housing"]
    assert lead_on(tomorrow) == ["transport"]
    history = dispatcher.get("/api/v1/catalogue/rules/manholes/versions").json()
    assert [(v["version"], v["created_by"]) for v in history] == [(1, "李管理"), (2, "李管理")]

    changes = admin.get("/api/v1/catalogue/changes").json()
    update = next(c for c in changes if c["key"] == "manholes" and c["action"] == "update")
    assert update["actor"] == "李管理"
    assert update["before"]["lead"] == "housing"
    assert update["after"]["lead"] == "transport"
    assert update["after"]["effective_from"] == tomorrow.isoformat()
    assert dispatcher.get("/api/v1/catalogue/changes").status_code == 403

    # Today the case still goes by version 1.
    tracking = submit(site, "路口的井盖丢了，晚上很危险")
    order = work_order(site, tracking)
    assert (order.department_code, order.matched_by) == ("housing", "rule:manholes@v1")
    assert order.co_department_codes == ["yuexi"]

    retired = admin.post("/api/v1/catalogue/rules/manholes/retire", json={})
    assert retired.json()["retired"] is True
    assert lead_on(today) == []


def test_a_new_department_reaches_intakes_categories_and_its_phone_only_the_admin(
    site: Site, admin: httpx.Client, dispatcher: httpx.Client
) -> None:
    created = admin.post(
        "/api/v1/catalogue/departments",
        json={
            "code": "water",
            "name": "县水利局",
            "name_en": "County Water Resources Bureau",
            "categories": ["水利"],
            "keywords": ["水库", "河道"],
            "liaisons": [{"name": "王洁", "phone": LIAISON_PHONE}],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["liaisons"] == [{"name": "王洁", "phone": LIAISON_PHONE}]

    def intake_has_it() -> bool:
        rows = site.rows(
            "intake", select(CatalogueCategory.category, CatalogueCategory.department_code)
        )
        return ("水利", "water") in [tuple(row) for row in rows]

    wait_for(intake_has_it)
    seen = {d["code"]: d for d in dispatcher.get("/api/v1/catalogue/departments").json()}
    assert seen["water"]["liaisons"] == [{"name": "王洁", "phone": None}]
    assert LIAISON_PHONE not in site.cluster.logs()
    assert LIAISON_PHONE not in httpx.get(f"{site.url('routing')}/metrics").text

    taken = admin.post(
        "/api/v1/catalogue/departments",
        json={"code": "env2", "name": "x", "name_en": "x", "categories": ["水利"]},
    )
    assert taken.status_code == 422
    assert taken.json()["detail"][0]["field"] == "categories.0"
    bad_phone = admin.put(
        "/api/v1/catalogue/departments/water",
        json={"name": "县水利局", "name_en": "x", "liaisons": [{"name": "王洁", "phone": "123"}]},
    )
    assert bad_phone.status_code == 422
    assert bad_phone.json()["detail"][0]["field"] == "liaisons.0.phone"
    no_place = admin.post(
        "/api/v1/catalogue/departments",
        json={"code": "shangxi", "name": "上溪村委", "name_en": "x", "kind": "village"},
    )
    assert no_place.status_code == 422
    assert no_place.json()["detail"][0]["field"] == "territory"

    renamed = admin.put(
        "/api/v1/catalogue/departments/water",
        json={"name": "县水务局", "name_en": "County Water Bureau", "categories": ["水务"]},
    )
    assert renamed.status_code == 200, renamed.text
    update = next(
        c
        for c in admin.get("/api/v1/catalogue/changes").json()
        if c["key"] == "water" and c["action"] == "update"
    )
    assert (update["before"]["name"], update["after"]["name"]) == ("县水利局", "县水务局")
    assert update["before"]["liaisons"] == [{"name": "王洁", "phone": LIAISON_PHONE}]
    assert update["after"]["liaisons"] == []

    retired = admin.post("/api/v1/catalogue/departments/water/retire")
    assert retired.json()["active"] is False

    def intake_dropped_it() -> bool:
        rows = site.rows("intake", select(CatalogueCategory.department_code))
        return bool(rows) and "water" not in {row[0] for row in rows}

    wait_for(intake_dropped_it)
    assert admin.post("/api/v1/catalogue/departments/water/retire").status_code == 404
    assert admin.put("/api/v1/catalogue/rules/nothing", json=rule("x")).status_code == 404


def test_territories_form_a_tree_and_a_village_unit_leads_its_own_matters(
    site: Site, admin: httpx.Client
) -> None:
    wrong = admin.post(
        "/api/v1/catalogue/territories",
        json={
            "code": "shangxi-1",
            "name": "上溪村一组",
            "level": "villager-group",
            "parent": "yuexi",
        },
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["field"] == "parent"
    group = admin.post(
        "/api/v1/catalogue/territories",
        json={
            "code": "shangxi-1",
            "name": "上溪村一组",
            "level": "villager-group",
            "parent": "yuexi-shangxi",
        },
    )
    assert group.status_code == 201, group.text
    in_use = admin.post("/api/v1/catalogue/territories/yuexi-shangxi/retire")
    assert in_use.status_code == 409


def submit(site: Site, description: str, **extra: Any) -> str:
    with site.client("intake") as client:
        response = client.post("/api/v1/cases", json=case_payload(description, **extra))
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_no"])


def work_order(site: Site, tracking_no: str) -> WorkOrder:
    statement = select(WorkOrder).where(WorkOrder.tracking_no == tracking_no)
    order: WorkOrder = wait_for(lambda: site.scalar("routing", statement))
    return order


def test_a_major_matter_goes_to_lead_and_co_at_once_and_alerts_the_leaders(site: Site) -> None:
    tap = EventTap(site.amqp_url)
    try:
        tracking = submit(site, "城东化工厂储罐泄漏，附近全村都闻到刺鼻气味")
        order = work_order(site, tracking)

        def alert() -> dict[str, Any] | None:
            for body in tap.drain():
                envelope = json.loads(body)
                if envelope["type"] == "case.major_alert":
                    return dict(envelope["data"])
            return None

        data = wait_for(alert)
    finally:
        tap.close()
    assert order.department_code == "env"
    assert order.co_department_codes == ["health", "housing"]
    assert order.major
    assert order.priority == "extra-urgent"
    assert (order.scope_level, order.scope_suggested) == ("village", True)
    assert data["tracking_no"] == tracking
    assert data["lead_department_code"] == "env"
    assert data["co_department_codes"] == ["health", "housing"]
    assert data["reasons"] == ["rule:chemical-accident"]
    assert data["priority"] == "extra-urgent"
    assert "13812345678" not in json.dumps(data)


def test_an_ordinary_case_is_neither_major_nor_alerted(site: Site) -> None:
    tracking = submit(site, "我家孩子想转学，学校说没有学位")
    order = work_order(site, tracking)

    assert order.department_code == "edu"
    assert not order.major
    assert order.priority == "normal"
    assert order.scope_level == "family"
    assert order.co_department_codes == []


def test_the_operators_scope_level_and_flag_are_kept_and_make_a_matter_major(
    site: Site,
) -> None:
    def call(summary: str, **extra: Any) -> str:
        body = {
            "call_id": f"call-{uuid.uuid4().hex[:12]}",
            "caller_number": "13900001111",
            "summary": summary,
            "kind": "help",
            **extra,
        }
        with site.client("intake", "op.wang") as client:
            response = client.post("/api/v1/hotline/calls", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["tracking_no"])

    society = work_order(site, call("我家门口的路灯坏了", scope_level="society"))
    flagged = work_order(site, call("我家门口的路灯坏了", urgency="extra-urgent"))
    plain = work_order(site, call("我家门口的路灯坏了", scope_level="villager-group"))

    assert (society.scope_level, society.scope_suggested, society.major) == ("society", False, True)
    assert (flagged.scope_level, flagged.scope_suggested, flagged.major) == ("family", True, True)
    assert flagged.priority == "extra-urgent"
    assert (plain.scope_level, plain.major, plain.priority) == ("villager-group", False, "normal")


def test_the_page_is_chinese_by_default_english_on_request_and_admins_only(
    site: Site, admin: httpx.Client, dispatcher: httpx.Client
) -> None:
    chinese = admin.get("/staff/catalogue", headers={"Accept-Language": "zh"})
    english = admin.get("/staff/catalogue", params={"lang": "en"})
    assert chinese.status_code == english.status_code == 200
    assert "派单目录" in chinese.text
    assert "Dispatch catalogue" in english.text
    assert "chemical-accident" in english.text
    assert dispatcher.get("/staff/catalogue").status_code == 403

    refused = admin.post(
        "/staff/catalogue/rules",
        data={"key": "page-rule", "lead_department": "nobody", "keywords": "路灯"},
    )
    assert refused.status_code == 422
    assert (
        site.scalar(
            "routing", select(func.count()).where(DispatchRuleVersion.rule_key == "page-rule")
        )
        == 0
    )
    added = admin.post(
        "/staff/catalogue/rules",
        data={"key": "page-rule", "lead_department": "housing", "keywords": "路灯 灯杆"},
    )
    assert added.status_code == 303
    assert "page-rule" in admin.get("/staff/catalogue").text

    group = {"code": "shangxi-2", "name": "上溪村二组", "level": "villager-group"}
    misplaced = admin.post("/staff/catalogue/territories", data={**group, "parent": "yuexi"})
    assert misplaced.status_code == 422
    assert "a villager group in a village" in misplaced.text
    placed = admin.post("/staff/catalogue/territories", data={**group, "parent": "yuexi-shangxi"})
    assert placed.status_code == 303
    territories = admin.get("/api/v1/catalogue/territories").json()
    assert {
        "code": "shangxi-2",
        "name": "上溪村二组",
        "level": "villager-group",
        "parent": "yuexi-shangxi",
        "active": True,
    } in territories


def test_a_restart_keeps_the_admins_edits_and_does_not_load_the_file_again(
    site: Site, admin: httpx.Client
) -> None:
    words = admin.put("/api/v1/catalogue/major-keywords", json={"keywords": ["塌方", "爆炸"]})
    assert words.status_code == 200, words.text
    site.cluster.processes["routing"].terminate()
    site.cluster.restart("routing")

    keys = {r["key"] for r in admin.get("/api/v1/catalogue/rules").json()}
    assert {"page-rule", "chemical-accident"} <= keys
    loads = select(func.count()).where(CatalogueChange.action == "load")
    assert site.scalar("routing", loads) == 1
    tracking = submit(site, "山路塌方，车过不去")
    order = work_order(site, tracking)
    assert order.major
