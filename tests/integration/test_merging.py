"""Merging (并单): the dispatcher merges a case into another, and every citizen stays informed.

Four `minqing serve` processes on PostgreSQL and RabbitMQ, shared by the module's tests.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.kernel.config import SERVICE_NAMES
from tests.integration.cross_channel import (
    EventTap,
    Stack,
    rows,
    sms_to,
    stack,
    staff_headers,
    submit,
)
from tests.support import assigned, publish_envelopes, read_sms, wait_until

pytestmark = pytest.mark.integration

DISPATCHER = staff_headers("dispatcher", staff_id="d-02", name="调度员")
# Words no dispatch rule knows: the case waits for the dispatcher, so its dispatch comes later.
TREE = "门口那棵大树歪了，刮风担心倒下来砸人"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack(SERVICE_NAMES, tmp_path_factory.mktemp("merging")) as running:
        yield running


def case(description: str, phone: str, kind: str = "complaint") -> dict[str, Any]:
    return {"description": description, "kind": kind, "contact": {"name": "李先生", "phone": phone}}


def merge(services: Stack, tracking_no: str, into: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{services.url('intake')}/api/v1/cases/{tracking_no}/merge",
        json={"into": into},
        headers=headers or DISPATCHER,
    )


def view(services: Stack, receipt: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(
        f"{services.url('intake')}/api/v1/cases/{receipt['tracking_no']}",
        params={"access_code": receipt["access_code"]},
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def status_of(services: Stack, receipt: dict[str, Any]) -> str:
    return str(view(services, receipt)["status"])


def work_order_status(services: Stack, tracking_no: str) -> str | None:
    found = rows(
        services.database_url("routing"),
        f"SELECT status FROM work_orders WHERE tracking_no = '{tracking_no}'",
    )
    return str(found[0][0]) if found else None


def case_id(services: Stack, tracking_no: str) -> uuid.UUID:
    [(found,)] = rows(
        services.database_url("intake"), f"SELECT id FROM cases WHERE tracking_no = '{tracking_no}'"
    )
    return uuid.UUID(str(found))


def test_merging_keeps_every_citizen_informed_and_the_merged_case_is_not_worked_twice(
    services: Stack,
) -> None:
    tap = EventTap(services.amqp_url)
    try:
        survivor = submit(services, case(TREE, "13600000001"))
        # The same citizen again, in other words: found as a possible duplicate.
        repeat = submit(services, case("门口大树歪了，一刮风就担心倒下来砸到人", "13600000001"))
        # A neighbour's tip-off on the same tree: the reporter's number stays sealed.
        tip_off = submit(
            services, case("举报：门口的大树歪了好久没人管，刮风随时会倒", "13600000002", "tip-off")
        )
        for receipt in (survivor, repeat, tip_off):
            wait_until(lambda r=receipt: status_of(services, r) == "awaiting_dispatch", 20)
        sms_to(services, "13600000001", 2)
        sms_to(services, "13600000002", 1)

        def link() -> list[dict[str, Any]]:
            listed = httpx.get(f"{services.url('intake')}/api/v1/duplicates", headers=DISPATCHER)
            return [d for d in listed.json() if d["case"]["tracking_no"] == repeat["tracking_no"]]

        [found] = wait_until(link, 20)
        assert found["candidate"]["tracking_no"] == survivor["tracking_no"]

        for merged in (repeat, tip_off):
            response = merge(services, merged["tracking_no"], survivor["tracking_no"])
            assert response.status_code == 200, response.text
            assert response.json() == {
                "tracking_no": merged["tracking_no"],
                "status": "merged",
                "into": survivor["tracking_no"],
                "into_status": "awaiting_dispatch",
            }
        assert link() == []
        [(link_status, decided_by)] = rows(
            services.database_url("intake"),
            f"SELECT status, decided_by FROM duplicate_links WHERE id = {found['id']}",
        )
        assert (link_status, decided_by) == ("merged", "d-02")

        # The merged cases' citizens are told which case they now follow, in one SMS part.
        for merged, phone, count in ((repeat, "13600000001", 3), (tip_off, "13600000002", 2)):
            notice = sms_to(services, phone, count)[-1]
            assert notice["template"] == "case_merged"
            assert merged["tracking_no"] in notice["text"]
            assert survivor["tracking_no"] in notice["text"]
            assert notice["segments"] == 1

        # Their views show the case they joined; their work orders are closed as merged.
        tip_off_view = view(services, tip_off)
        assert tip_off_view["status"] == "merged"
        assert tip_off_view["status_label"] == "已合并办理"
        assert tip_off_view["timeline"][-1]["note"] == f"并入 {survivor['tracking_no']}"
        assert tip_off_view["merged_into"]["tracking_no"] == survivor["tracking_no"]
        assert tip_off_view["merged_into"]["status"] == "awaiting_dispatch"
        assert view(services, survivor)["merged_into"] is None
        for merged in (repeat, tip_off):
            wait_until(lambda m=merged: work_order_status(services, m["tracking_no"]) == "merged")
        assert work_order_status(services, survivor["tracking_no"]) == "awaiting_dispatch"

        # Reporting counts the merged cases once, as merged.
        def counted() -> bool:
            summary = httpx.get(f"{services.url('reporting')}/api/v1/reports/summary").json()
            return bool(summary["by_status"].get("merged") == 2)

        wait_until(counted, 20)

        # The bus carried who merged what into what.
        def merged_events() -> list[dict[str, Any]]:
            events = [json.loads(body) for body in tap.drain()]
            found = [e["data"] for e in events if e["type"] == "case.merged"]
            return found if len(found) == 2 else []

        events = wait_until(merged_events, 20)
        assert {(e["tracking_no"], e["into_tracking_no"], e["merged_by"]) for e in events} == {
            (repeat["tracking_no"], survivor["tracking_no"], "d-02"),
            (tip_off["tracking_no"], survivor["tracking_no"], "d-02"),
        }

        # From then on, what happens to the surviving case reaches every citizen, once each.
        survivor_id = case_id(services, survivor["tracking_no"])
        dispatched = assigned(survivor_id, survivor["tracking_no"])
        publish_envelopes(
            services.amqp_url, [dispatched.envelope(producer="routing", case_id=survivor_id)]
        )
        for phone, count in (("13600000001", 4), ("13600000002", 3)):
            notice = sms_to(services, phone, count)[-1]
            assert notice["template"] == "case_dispatched"
            assert survivor["tracking_no"] in notice["text"]
        wait_until(lambda: view(services, tip_off)["merged_into"]["status"] == "dispatched", 20)
        assert view(services, tip_off)["merged_into"]["department"] == "县教育局"
        # One notice per number, though two of its cases follow the survivor.
        dispatched_sms = [
            m for m in read_sms(services.sms_path) if m["template"] == "case_dispatched"
        ]
        assert sorted(m["to"] for m in dispatched_sms if survivor["tracking_no"] in m["text"]) == [
            "13600000001",
            "13600000002",
        ]
        # The reporter's number was opened only to send: notify keeps it sealed.
        sealed = rows(
            services.database_url("notify"),
            "SELECT count(*) FROM messages WHERE recipient LIKE '13600000002%'",
        )
        assert sealed == [(0,)]
    finally:
        tap.close()


def test_merging_a_case_others_joined_carries_them_along(services: Stack) -> None:
    first = submit(services, case(TREE, "13600000011"))
    second = submit(services, case(TREE, "13600000012"))
    third = submit(services, case(TREE, "13600000013"))
    for receipt in (first, second, third):
        wait_until(lambda r=receipt: status_of(services, r) == "awaiting_dispatch", 20)

    assert merge(services, first["tracking_no"], second["tracking_no"]).status_code == 200
    assert merge(services, second["tracking_no"], third["tracking_no"]).status_code == 200

    assert view(services, first)["merged_into"]["tracking_no"] == third["tracking_no"]
    assert view(services, second)["merged_into"]["tracking_no"] == third["tracking_no"]
    # The first citizen hears of both steps; the second of its own.
    first_notice = sms_to(services, "13600000011", 3)[-1]
    assert first_notice["template"] == "case_merged"
    assert third["tracking_no"] in first_notice["text"]
    assert first["tracking_no"] in first_notice["text"]
    second_notice = sms_to(services, "13600000012", 2)[-1]
    assert third["tracking_no"] in second_notice["text"]


def test_merges_that_make_no_sense_are_refused_and_change_nothing(services: Stack) -> None:
    a = submit(services, case(TREE, "13600000021"))
    b = submit(services, case(TREE, "13600000022"))
    c = submit(services, case(TREE, "13600000023"))
    for receipt in (a, b, c):
        wait_until(lambda r=receipt: status_of(services, r) == "awaiting_dispatch", 20)
    a_no, b_no, c_no = a["tracking_no"], b["tracking_no"], c["tracking_no"]

    assert (
        httpx.post(
            f"{services.url('intake')}/api/v1/cases/{a_no}/merge", json={"into": b_no}
        ).status_code
        == 401
    )
    assert merge(services, a_no, b_no, **staff_headers("handler")).status_code == 403
    assert merge(services, a_no, b_no, **staff_headers("tip-off-officer")).status_code == 403
    assert merge(services, "20200101-999999", b_no).status_code == 404

    def refused(tracking_no: str, into: str) -> tuple[int, str, str]:
        response = merge(services, tracking_no, into, **DISPATCHER, **{"Accept-Language": "en"})
        [error] = response.json()["detail"]
        return response.status_code, error["field"], error["type"]

    assert refused(a_no, a_no) == (422, "into", "merge_into_itself")
    assert refused(a_no, "20200101-999999") == (422, "into", "unknown_case")
    blank = merge(services, a_no, "  ")
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["field"] == "into"

    assert merge(services, a_no, b_no).status_code == 200
    assert refused(a_no, c_no) == (409, "tracking_no", "already_merged")
    assert refused(c_no, a_no) == (409, "into", "into_merged_case")
    assert refused(b_no, a_no) == (409, "into", "merge_cycle")
    chinese = merge(services, c_no, a_no).json()["detail"][0]["message"]
    assert chinese == f"{a_no} 本身已合并到 {b_no}，请合并到该诉求"

    assert status_of(services, b) == status_of(services, c) == "awaiting_dispatch"
    assert view(services, a)["merged_into"]["tracking_no"] == b_no
    [(merges,)] = rows(
        services.database_url("intake"),
        "SELECT count(*) FROM outbox WHERE event_type = 'case.merged'"
        f" AND case_id IN ('{case_id(services, b_no)}', '{case_id(services, c_no)}')",
    )
    assert merges == 0
