"""The hotline over real HTTP: calls become routed cases with their operator as first contact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.intake.models import Case, HotlineCall
from services.kernel.outbox import outbox
from services.routing.models import WorkOrder
from tests.integration.staffing import Site, running_site, wait_for
from tests.support import read_sms

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    names = ("intake", "routing", "notify", "reporting")
    with running_site(names, tmp_path_factory.mktemp("hotline")) as site:
        site.add_staff("op.wang", "operator", name="王丽")
        site.add_staff("op.chen", "operator", name="陈刚")
        site.add_staff("kb.admin", "admin", name="管理员")
        yield site


@pytest.fixture(scope="module")
def operator(site: Site) -> Iterator[httpx.Client]:
    with site.client("intake", "op.wang") as client:
        yield client


def call(summary: str = "学校门口校车超载，孩子们很危险", **extra: Any) -> dict[str, Any]:
    return {
        "call_id": f"call-{uuid.uuid4().hex[:12]}",
        "caller_number": "13900001111",
        "caller_name": "刘先生",
        "summary": summary,
        "kind": "complaint",
        "location": {"address": "城关镇学府路3号"},
        "urgency": "urgent",
        **extra,
    }


def record(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/hotline/calls", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def case_view(site: Site, answer: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(
        f"{site.url('intake')}/api/v1/cases/{answer['tracking_no']}",
        params={"access_code": answer["access_code"]},
    )
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def sms_for(site: Site, tracking_no: str) -> list[dict[str, Any]]:
    """The case's messages to its citizen, without those to the department's liaison officers."""
    return [
        m
        for m in read_sms(site.sms_path)
        if m.get("tracking_no") == tracking_no and m["template"].startswith("case_")
    ]


def test_a_call_becomes_a_routed_case_with_the_operator_as_first_contact(
    site: Site, operator: httpx.Client
) -> None:
    answer = record(operator, call(caller_number="139 0000 2222"))
    assert answer["status"] == "received"
    assert answer["sms_receipt"] is True
    assert answer["repeat_caller"] is False
    view = wait_for(lambda: (v := case_view(site, answer))["status"] == "dispatched" and v)
    assert view["channel"] == "hotline"
    assert view["department"] == "县教育局"
    with site.database("intake") as database, database.session() as session:
        case = session.scalars(select(Case).where(Case.tracking_no == answer["tracking_no"])).one()
        assert (case.first_contact_name, case.first_contact_unit) == ("王丽", "12345 热线中心")
        assert case.urgency == "urgent"
        assert case.contact_phone == "13900002222"
        assert session.get_one(HotlineCall, case.reference).caller_number == "13900002222"
    mine = operator.get("/api/v1/hotline/my-cases").json()
    assert answer["tracking_no"] in [c["tracking_no"] for c in mine]
    with site.client("intake", "op.chen") as other:
        assert answer["tracking_no"] not in [
            c["tracking_no"] for c in other.get("/api/v1/hotline/my-cases").json()
        ]
    texts = wait_for(lambda: len(m := sms_for(site, answer["tracking_no"])) == 2 and m)
    assert {m["template"] for m in texts} == {"case_received", "case_dispatched"}


def test_the_same_call_id_twice_gives_one_case(site: Site, operator: httpx.Client) -> None:
    body = call("小区停水三天了", caller_number="13900003333")
    first = operator.post("/api/v1/hotline/calls", json=body)
    again = operator.post("/api/v1/hotline/calls", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    count = site.scalar(
        "intake", select(func.count()).select_from(Case).where(Case.reference == body["call_id"])
    )
    assert count == 1
    changed = operator.post("/api/v1/hotline/calls", json={**body, "summary": "别的事"})
    assert changed.status_code == 422
    assert changed.json()["detail"][0]["field"] == "call_id"


def test_a_withheld_number_gets_no_text_message(site: Site, operator: httpx.Client) -> None:
    answer = record(operator, call("村里的路灯坏了", caller_number=None, caller_name=None))
    assert answer["sms_receipt"] is False
    assert answer["repeat_caller"] is False
    wait_for(lambda: case_view(site, answer)["status"] != "received")
    assert sms_for(site, answer["tracking_no"]) == []


def test_a_landline_is_kept_for_repeat_calls_but_gets_no_text_message(
    site: Site, operator: httpx.Client
) -> None:
    first = record(operator, call("路面塌陷", caller_number="0571-8888 1234"))
    second = record(operator, call("路面塌陷还没修", caller_number="057188881234"))
    assert first["sms_receipt"] is second["sms_receipt"] is False
    assert [c["tracking_no"] for c in second["earlier_cases"]] == [first["tracking_no"]]


def test_a_consultation_answered_on_the_call_is_closed_and_never_dispatched(
    site: Site, operator: httpx.Client
) -> None:
    the_answer = "社保卡丢失后，带身份证到县社保大厅挂失补办，当场可领临时卡。"
    answer = record(
        operator,
        call(
            "社保卡丢了怎么补办",
            kind="consultation",
            caller_number="13900004444",
            answered_directly=True,
            answer=the_answer,
        ),
    )
    assert answer["status"] == "answered"
    case_id = site.scalar(
        "intake", select(Case.id).where(Case.tracking_no == answer["tracking_no"])
    )
    order = wait_for(
        lambda: site.scalar("routing", select(WorkOrder).where(WorkOrder.case_id == case_id))
    )
    assert order.status == "answered"
    assert order.department_code is None
    # Routing published nothing for it: no case.assigned, nothing on a department's queue.
    assert (
        site.rows("routing", select(outbox.c.event_type).where(outbox.c.case_id == case_id)) == []
    )
    view = case_view(site, answer)
    assert view["status"] == "answered"
    assert view["status_label"] == "已当场答复"
    assert view["timeline"][-1]["note"] == the_answer
    assert view["department"] is None
    # The caller is told it was answered, and reporting counts the case as answered.
    texts = wait_for(lambda: sms_for(site, answer["tracking_no"]))
    assert [m["template"] for m in texts] == ["case_answered_directly"]
    summary = wait_for(
        lambda: (
            (s := httpx.get(f"{site.url('reporting')}/api/v1/reports/summary").json())[
                "by_status"
            ].get("answered")
            and s
        )
    )
    assert summary["by_channel"]["hotline"] >= 1


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"answered_directly": True, "answer": "x" * 5}, "answered_directly", "consultation"),
        ({"kind": "consultation", "answered_directly": True}, "answer", "give the answer"),
        ({"answer": "已答复"}, "answer", "answered_directly"),
        ({"caller_number": "12"}, "caller_number", "3 to 20 digits"),
        ({"urgency": "soon"}, "urgency", "'extra-urgent'"),
        ({"knowledge_entry_id": 999999}, "knowledge_entry_id", "no knowledge-base entry"),
    ],
)
def test_bad_calls_get_field_errors_and_record_nothing(
    site: Site, operator: httpx.Client, change: dict[str, Any], field: str, reason: str
) -> None:
    body = call(**change)
    response = operator.post("/api/v1/hotline/calls", json=body)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["detail"]}
    assert reason in errors[field], errors
    count = site.scalar(
        "intake", select(func.count()).select_from(Case).where(Case.reference == body["call_id"])
    )
    assert count == 0


def test_a_repeat_caller_is_flagged_with_their_earlier_cases(
    site: Site, operator: httpx.Client
) -> None:
    web = httpx.post(
        f"{site.url('intake')}/api/v1/cases",
        json={"description": "噪音扰民", "kind": "complaint", "contact": {"phone": "13900005555"}},
    ).json()
    first = record(operator, call("工地夜间施工", caller_number="13900005555"))
    assert [c["tracking_no"] for c in first["earlier_cases"]] == [web["tracking_no"]]
    second = record(operator, call("工地还在夜间施工", caller_number="+86 139-0000-5555"))
    assert second["repeat_caller"] is True
    earlier = second["earlier_cases"]
    assert [c["tracking_no"] for c in earlier] == [first["tracking_no"], web["tracking_no"]]
    assert {"submitted_on", "status", "status_label", "channel"} <= earlier[0].keys()


def test_a_missed_caller_waits_on_the_callback_list_until_reached(
    site: Site, operator: httpx.Client
) -> None:
    missed = {
        "call_id": "pbx-771",
        "caller_number": "13900006666",
        "missed_at": "2026-01-05T09:30:00+08:00",
    }
    first = operator.post("/api/v1/hotline/missed-calls", json=missed)
    assert first.status_code == 201, first.text
    assert operator.post("/api/v1/hotline/missed-calls", json=missed).status_code == 200
    later = operator.post(
        "/api/v1/hotline/missed-calls",
        json={"call_id": "pbx-772", "caller_number": "13900006666"},
    )
    assert later.json()["id"] == first.json()["id"]
    assert later.json()["missed_calls"] == 2
    entry_id = first.json()["id"]

    listed = operator.get("/api/v1/hotline/callbacks").json()
    assert listed[0]["id"] == entry_id  # the longest waiting first
    attempts = f"/api/v1/hotline/callbacks/{entry_id}/attempts"
    tried = operator.post(attempts, json={"outcome": "no-answer", "note": "关机"})
    assert tried.status_code == 201
    assert tried.json()["attempts"][0]["staff_name"] == "王丽"
    assert entry_id in [e["id"] for e in operator.get("/api/v1/hotline/callbacks").json()]
    reached = operator.post(attempts, json={"outcome": "reached"})
    assert reached.json()["closed_reason"] == "reached"
    assert entry_id not in [e["id"] for e in operator.get("/api/v1/hotline/callbacks").json()]
    assert (
        operator.post(
            "/api/v1/hotline/callbacks/999999/attempts", json={"outcome": "reached"}
        ).status_code
        == 404
    )


def test_recording_a_call_from_a_missed_caller_takes_them_off_the_list(
    site: Site, operator: httpx.Client
) -> None:
    entry = operator.post(
        "/api/v1/hotline/missed-calls", json={"call_id": "pbx-900", "caller_number": "13900007777"}
    ).json()
    record(operator, call("回电：反映物业乱收费", caller_number="13900007777"))
    assert entry["id"] not in [e["id"] for e in operator.get("/api/v1/hotline/callbacks").json()]


def test_the_knowledge_base_finds_the_closest_answer_first(
    site: Site, operator: httpx.Client
) -> None:
    entries = [
        {
            "question": "社会保障卡丢失了怎么补办？",
            "answer": "带身份证到县社保大厅挂失补办。",
            "keywords": ["社保卡", "补卡", "挂失"],
            "category": "社会保障",
        },
        {
            "question": "医保报销需要哪些材料？",
            "answer": "发票、费用清单、出院小结。",
            "keywords": ["医保", "报销"],
            "category": "社会保障",
        },
        {
            "question": "孩子转学怎么办理？",
            "answer": "先联系转入学校，再到教育局学籍科办理。",
            "keywords": ["转学", "学籍"],
            "category": "教育",
        },
    ]
    with site.client("intake", "kb.admin") as admin:
        ids = [admin.post("/api/v1/knowledge", json=e).json()["id"] for e in entries]
        bad = admin.post("/api/v1/knowledge", json={"question": "", "answer": "x"})
        assert {e["field"] for e in bad.json()["detail"]} == {"question", "answer"}
    found = operator.get("/api/v1/knowledge", params={"q": "社保卡丢了怎么补"}).json()
    assert found[0]["id"] == ids[0]
    assert found[0]["score"] > (found[1]["score"] if len(found) > 1 else 0)
    assert operator.get("/api/v1/knowledge", params={"q": "转学"}).json()[0]["id"] == ids[2]
    assert operator.get("/api/v1/knowledge", params={"q": "护照"}).json() == []
    with site.client("intake", "kb.admin") as admin:
        retired = admin.put(f"/api/v1/knowledge/{ids[2]}", json={**entries[2], "active": False})
        assert retired.status_code == 200
        assert admin.put("/api/v1/knowledge/999999", json=entries[2]).status_code == 404
    assert operator.get("/api/v1/knowledge", params={"q": "转学"}).json() == []


def test_the_operator_page_records_a_call_and_shows_the_lists(
    site: Site, operator: httpx.Client
) -> None:
    cookies = {"minqing_staff": site.token("op.chen")}
    intake = site.url("intake")
    with httpx.Client(base_url=intake, cookies=cookies, timeout=30) as page:
        empty = page.get("/staff/hotline")
        assert empty.status_code == 200
        assert 'name="summary"' in empty.text
        call_id = f"page-test-{uuid.uuid4().hex[:8]}"
        form = {
            "call_id": call_id,
            "caller_number": "13900008888",
            "summary": "医保报销要带什么",
            "kind": "consultation",
            "urgency": "normal",
            "q": "医保报销",
        }
        searched = page.post("/staff/hotline/calls", data={**form, "action": "search"})
        assert "发票、费用清单" in searched.text
        assert "13900008888" in searched.text  # what was typed is kept
        entry_id = operator.get("/api/v1/knowledge", params={"q": "医保报销"}).json()[0]["id"]
        used = page.post("/staff/hotline/calls", data={**form, "action": f"use:{entry_id}"})
        assert 'name="answered_directly" checked' in used.text
        bad = page.post("/staff/hotline/calls", data={**form, "summary": "", "action": "record"})
        assert bad.status_code == 422
        assert "必须填写" in bad.text
        recorded = page.post(
            "/staff/hotline/calls",
            data={
                **form,
                "action": "record",
                "answered_directly": "on",
                "answer": "发票、费用清单、出院小结。",
                "knowledge_entry_id": str(entry_id),
            },
        )
        assert recorded.status_code == 200, recorded.text
        tracking_no = site.scalar(
            "intake", select(Case.tracking_no).where(Case.reference == call_id)
        )
        assert tracking_no in recorded.text
        assert "已当场答复" in recorded.text
        missed = page.post("/staff/hotline/missed-calls", data={"caller_number": "13900009999"})
        assert missed.status_code == 303
        listed = page.get("/staff/hotline")
        assert "13900009999" in listed.text
        assert tracking_no in listed.text  # among my cases


def test_no_caller_number_reaches_the_logs(site: Site, operator: httpx.Client) -> None:
    record(operator, call("测试日志", caller_number="13900001234"))
    operator.post(
        "/api/v1/hotline/missed-calls", json={"call_id": "pbx-log", "caller_number": "057112345678"}
    )
    for process in site.cluster.processes.values():
        text = process.log_path.read_text(encoding="utf-8", errors="replace")
        assert "13900001234" not in text
        assert "057112345678" not in text
