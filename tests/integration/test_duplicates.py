"""Possible duplicates are found after a case is accepted and listed for the dispatcher.

`minqing serve intake` on PostgreSQL and RabbitMQ, shared by the module's tests; each test uses
contacts and places of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.cross_channel import (
    EventTap,
    Stack,
    rows,
    stack,
    staff_headers,
    submit,
)
from tests.support import wait_until

pytestmark = pytest.mark.integration

DISPATCHER = staff_headers("dispatcher", staff_id="d-01", name="调度员")
LAMP = "小区路灯坏了一个星期，晚上很黑"
LAMP_AGAIN = "我们小区的路灯已经坏了一周了，晚上出门很黑，请尽快修理"
SCHOOL = "我家孩子转学手续办了两个月还没办好"
DRAIN = "我们楼下的排水沟堵了半个月，一下雨就漫进一楼"


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack(("intake",), tmp_path_factory.mktemp("duplicates")) as running:
        yield running


def case(description: str, phone: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "kind": "complaint",
        "contact": {"name": "王女士", "phone": phone},
        **extra,
    }


def checked(intake: Stack, *tracking_nos: str) -> None:
    """Wait until duplicate detection's sweep has checked each case."""
    wanted = ", ".join(f"'{t}'" for t in tracking_nos)
    statement = f"SELECT count(*) FROM cases WHERE duplicates_checked AND tracking_no IN ({wanted})"
    url = intake.database_url("intake")
    wait_until(lambda: rows(url, statement) == [(len(tracking_nos),)], 20)


def submit_checked(intake: Stack, payload: dict[str, Any]) -> str:
    tracking_no = str(submit(intake, payload)["tracking_no"])
    checked(intake, tracking_no)
    return tracking_no


def listed(intake: Stack) -> list[dict[str, Any]]:
    response = httpx.get(f"{intake.url('intake')}/api/v1/duplicates", headers=DISPATCHER)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def pairs(intake: Stack, *tracking_nos: str) -> set[tuple[str, str, str]]:
    """(case, candidate, reason) of the listed links that touch any of `tracking_nos`."""
    return {
        (link["case"]["tracking_no"], link["candidate"]["tracking_no"], link["reason"])
        for link in listed(intake)
        if {link["case"]["tracking_no"], link["candidate"]["tracking_no"]} & set(tracking_nos)
    }


def test_the_same_contact_writing_much_the_same_within_a_week_is_linked_for_the_dispatcher(
    intake: Stack,
) -> None:
    tap = EventTap(intake.amqp_url)
    try:
        first = submit_checked(intake, case(LAMP, "13700000001"))
        again = submit_checked(intake, case(LAMP_AGAIN, "+86 137-0000-0001"))
        [link] = [link for link in listed(intake) if link["case"]["tracking_no"] == again]
        assert link["candidate"]["tracking_no"] == first
        assert link["reason"] == "same-contact"
        assert link["status"] == "open"
        assert 0.3 <= link["score"] <= 1
        assert link["case"]["description"] == LAMP_AGAIN
        assert link["candidate"]["description"] == LAMP
        assert link["case"]["status"] == "received"
        # The dispatcher compares matters, not people.
        text = json.dumps(link, ensure_ascii=False)
        assert "13700000001" not in text
        assert "王女士" not in text

        def suspected() -> list[dict[str, Any]]:
            events = [json.loads(body) for body in tap.drain()]
            return [e["data"] for e in events if e["type"] == "case.duplicate_suspected"]

        [event] = wait_until(suspected, 20)
        assert (event["tracking_no"], event["candidate_tracking_no"]) == (again, first)
        assert event["reason"] == "same-contact"
    finally:
        tap.close()


def test_only_a_dispatcher_sees_the_list(intake: Stack) -> None:
    url = f"{intake.url('intake')}/api/v1/duplicates"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=staff_headers("handler")).status_code == 403
    assert httpx.get(url, headers=staff_headers("tip-off-officer")).status_code == 403


def test_the_same_contact_on_another_matter_or_another_contact_with_the_same_words_is_not_linked(
    intake: Stack,
) -> None:
    lamp = submit_checked(intake, case(LAMP, "13700000002"))
    school = submit_checked(intake, case(SCHOOL, "13700000002"))
    stranger = submit_checked(intake, case(LAMP, "13700000003"))
    assert pairs(intake, lamp, school, stranger) == set()


def test_the_same_email_is_the_same_contact(intake: Stack) -> None:
    first = submit(
        intake, {"description": DRAIN, "kind": "help", "contact": {"email": "Zhao@Example.com"}}
    )["tracking_no"]
    again = submit_checked(
        intake,
        {
            "description": "排水沟堵塞半个月了，下雨水就漫进一楼住户家里",
            "kind": "help",
            "contact": {"email": "zhao@example.com", "phone": "13700000004"},
        },
    )
    assert pairs(intake, first, again) == {(again, first, "same-contact")}


def test_the_same_category_near_the_same_place_is_linked_whoever_wrote(intake: Stack) -> None:
    here = {"lat": 29.2000, "lon": 121.3000}
    first = submit_checked(intake, case(LAMP, "13700000011", category="城乡建设", location=here))
    # About 170 m north, another citizen, other words: perhaps the same matter.
    near = submit_checked(
        intake,
        case(
            DRAIN,
            "13700000012",
            category="城乡建设",
            location={"lat": 29.20155, "lon": 121.3000},
        ),
    )
    # About 560 m away, or another category at the very spot: not.
    far = submit_checked(
        intake,
        case(DRAIN, "13700000013", category="城乡建设", location={"lat": 29.195, "lon": 121.3}),
    )
    other = submit_checked(intake, case(DRAIN, "13700000014", category="教育文体", location=here))
    assert pairs(intake, first, near, far, other) == {(near, first, "same-place")}


def test_the_same_address_written_differently_is_the_same_place(intake: Stack) -> None:
    first = submit_checked(
        intake,
        case(LAMP, "13700000021", category="交通运输", location={"address": "越溪乡 王家村 ３号"}),
    )
    again = submit_checked(
        intake,
        case(SCHOOL, "13700000022", category="交通运输", location={"address": "越溪乡王家村3号"}),
    )
    assert pairs(intake, first, again) == {(again, first, "same-place")}


def test_a_case_more_than_a_week_older_is_not_linked(intake: Stack) -> None:
    old = submit_checked(intake, case(LAMP, "13700000031"))
    recent = submit_checked(intake, case(LAMP, "13700000032"))
    for tracking_no, days in ((old, 8), (recent, 6)):
        rows(
            intake.database_url("intake"),
            f"UPDATE cases SET submitted_at = now() - interval '{days} days'"
            f" WHERE tracking_no = '{tracking_no}' RETURNING 1",
        )
    from_old = submit_checked(intake, case(LAMP_AGAIN, "13700000031"))
    from_recent = submit_checked(intake, case(LAMP_AGAIN, "13700000032"))
    assert pairs(intake, old, recent, from_old, from_recent) == {
        (from_recent, recent, "same-contact")
    }


def test_two_tip_offs_from_one_reporter_are_linked_without_opening_either(intake: Stack) -> None:
    def tip_off(description: str, phone: str) -> dict[str, Any]:
        return {**case(description, phone), "kind": "tip-off"}

    first = submit_checked(
        intake, tip_off("举报某工地夜间违规施工，噪音扰民到凌晨两点", "13700000041")
    )
    again = submit_checked(
        intake, tip_off("工地晚上施工噪音太大，一直到凌晨两点，影响休息", "13700000041")
    )
    # The same number on an open case is not linked to the tip-offs: that would name the reporter.
    open_case = submit_checked(
        intake, case("工地晚上施工噪音太大，一直到凌晨两点，影响休息", "13700000041")
    )
    assert pairs(intake, first, again, open_case) == {(again, first, "same-contact")}
    fingerprints = rows(
        intake.database_url("intake"),
        "SELECT contact_phone, phone_fingerprint, sealed_contact IS NOT NULL FROM cases"
        f" WHERE tracking_no IN ('{first}', '{again}')",
    )
    assert {(phone, sealed) for phone, _, sealed in fingerprints} == {(None, True)}
    assert len({fingerprint for _, fingerprint, _ in fingerprints}) == 1
    assert "13700000041" not in json.dumps(listed(intake))


def test_a_dismissed_link_leaves_the_list_and_cannot_be_dismissed_twice(intake: Stack) -> None:
    first = submit_checked(intake, case(DRAIN, "13700000051"))
    again = submit_checked(intake, case("排水沟堵塞半个月了，下雨水就漫进一楼", "13700000051"))
    [link] = [link for link in listed(intake) if link["case"]["tracking_no"] == again]
    url = f"{intake.url('intake')}/api/v1/duplicates/{link['id']}/dismiss"

    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers=staff_headers("supervisor")).status_code == 403
    dismissed = httpx.post(url, headers=DISPATCHER)
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["decided_by"] == "d-01"
    assert pairs(intake, first, again) == set()
    assert httpx.post(url, headers=DISPATCHER).status_code == 409
    missing = f"{intake.url('intake')}/api/v1/duplicates/999999/dismiss"
    assert httpx.post(missing, headers=DISPATCHER).status_code == 404


def test_a_citizen_writing_again_and_again_gets_a_few_links_per_case_not_one_per_pair(
    intake: Stack,
) -> None:
    sent = [submit_checked(intake, case(LAMP, "13700000061")) for _ in range(6)]
    found = pairs(intake, *sent)
    assert {newer for newer, _, _ in found} == set(sent[1:])
    for newer in sent[1:]:
        candidates = {older for case_no, older, _ in found if case_no == newer}
        # The earliest cases, the ones the dispatcher would merge into.
        assert candidates == set(sent[: min(3, sent.index(newer))])


def test_the_dispatcher_merges_and_dismisses_from_the_page(intake: Stack) -> None:
    first = submit_checked(intake, case(LAMP, "13700000061"))
    again = submit_checked(intake, case(LAMP_AGAIN, "13700000061"))
    other = submit_checked(intake, case(LAMP, "13700000062", kind="suggestion"))
    different = submit_checked(intake, case(LAMP_AGAIN, "13700000062", kind="suggestion"))
    links = {link["case"]["tracking_no"]: link["id"] for link in listed(intake)}
    page = f"{intake.url('intake')}/staff/duplicates"
    cookies = {"minqing_staff": DISPATCHER["Authorization"].removeprefix("Bearer ")}
    with httpx.Client(cookies=cookies, timeout=30) as dispatcher:
        shown = dispatcher.get(page)
        assert shown.status_code == 200
        assert again in shown.text
        assert first in shown.text
        # The matters, side by side; never the people who raised them.
        assert "13700000061" not in shown.text
        assert "王女士" not in shown.text

        merged = dispatcher.post(f"{page}/{links[again]}/merge")
        assert (merged.status_code, merged.headers["location"]) == (
            303,
            f"/staff/duplicates?merged={again}",
        )
        dismissed = dispatcher.post(f"{page}/{links[different]}/dismiss")
        assert dismissed.status_code == 303
        after = dispatcher.get(page).text
        assert f"link-{links[again]}" not in after
        assert f"link-{links[different]}" not in after
        twice = dispatcher.post(f"{page}/{links[different]}/dismiss")
        assert twice.status_code == 409
    statuses = dict(
        rows(
            intake.database_url("intake"),
            "SELECT tracking_no, status FROM cases "
            f"WHERE tracking_no IN ('{again}', '{different}', '{other}')",
        )
    )
    assert statuses == {again: "merged", different: "received", other: "received"}

    operator = {"minqing_staff": staff_headers("operator")["Authorization"].removeprefix("Bearer ")}
    assert httpx.get(page, cookies=operator).status_code == 403
    assert httpx.post(f"{page}/{links[different]}/merge", cookies=operator).status_code == 403
    assert httpx.get(page).status_code == 303
