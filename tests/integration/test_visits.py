"""Field visits over real HTTP: each problem raised is a routed case, all recorded or none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.intake.models import Case, Visit
from services.kernel.outbox import outbox
from services.routing.models import WorkOrder
from tests.integration.staffing import Site, running_site, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("visits")) as site:
        site.add_staff("li.ming", "operator", name="李明", unit="越溪乡人民政府")
        site.add_staff("zhao.jun", "operator", name="赵军", unit="城关镇人民政府")
        yield site


@pytest.fixture(scope="module")
def official(site: Site) -> Iterator[httpx.Client]:
    with site.client("intake", "li.ming") as client:
        yield client


def visit(**extra: Any) -> dict[str, Any]:
    return {
        "type": "household",
        "township": "越溪乡",
        "village": "王家村",
        "visited_on": (date.today() - timedelta(days=1)).isoformat(),
        "household_head": "王大伯",
        "problems": [
            {"description": "村小学的校车每天超载", "kind": "complaint"},
            {"description": "养老金这个月还没到账", "contact_phone": "13700001111"},
            {"description": "村口的路灯坏了一个月", "category": "城乡建设", "urgency": "urgent"},
        ],
        **extra,
    }


def counts(site: Site) -> tuple[int, int]:
    cases = site.scalar("intake", select(func.count()).select_from(Case))
    visits = site.scalar("intake", select(func.count()).select_from(Visit))
    return int(cases), int(visits)


def test_a_visit_with_three_problems_makes_three_routed_cases(
    site: Site, official: httpx.Client
) -> None:
    response = official.post("/api/v1/visits", json=visit())
    assert response.status_code == 201, response.text
    recorded = response.json()
    numbers = [c["tracking_no"] for c in recorded["cases"]]
    assert len(set(numbers)) == 3
    assert all(len(c["access_code"]) == 6 for c in recorded["cases"])
    with site.database("intake") as database, database.session() as session:
        cases = session.scalars(select(Case).where(Case.tracking_no.in_(numbers))).all()
        assert {c.channel for c in cases} == {"visit"}
        assert {(c.first_contact_name, c.first_contact_unit) for c in cases} == {
            ("李明", "越溪乡人民政府")
        }
        assert {c.address for c in cases} == {"越溪乡王家村"}
        assert sorted(c.contact_name or "" for c in cases) == ["王大伯"] * 3
    orders = wait_for(
        lambda: (
            len(
                rows := site.rows(
                    "routing",
                    select(WorkOrder.tracking_no, WorkOrder.department_code).where(
                        WorkOrder.tracking_no.in_(numbers)
                    ),
                )
            )
            == 3
            and dict(rows)
        )
    )
    assert orders == {numbers[0]: "edu", numbers[1]: "hrss", numbers[2]: "housing"}

    listed = wait_for(
        lambda: (v := official.get("/api/v1/visits").json())[0]["cases"][0]["department"] and v
    )
    assert listed[0]["id"] == recorded["id"]
    assert [c["tracking_no"] for c in listed[0]["cases"]] == numbers
    assert all(c["access_code"] is None for c in listed[0]["cases"])
    with site.client("intake", "zhao.jun") as other:
        assert other.get("/api/v1/visits").json() == []


def test_a_bad_third_problem_records_nothing(site: Site, official: httpx.Client) -> None:
    before = counts(site)
    body = visit()
    body["problems"][2] = {"description": "", "contact_phone": "12345"}
    response = official.post("/api/v1/visits", json=body)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["detail"]}
    assert set(errors) == {"problems.2.description", "problems.2.contact_phone"}
    assert counts(site) == before
    # And nothing went out on the bus either.
    assert site.scalar("intake", select(func.count()).select_from(outbox)) == before[0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "meeting", "household_head": None}, "participants"),
        ({"household_head": ""}, "household_head"),
        ({"visited_on": (date.today() + timedelta(days=2)).isoformat()}, "visited_on"),
        ({"problems": []}, "problems"),
        ({"village": ""}, "village"),
    ],
)
def test_a_visit_missing_what_it_needs_is_refused_by_field(
    site: Site, official: httpx.Client, change: dict[str, Any], field: str
) -> None:
    before = counts(site)
    response = official.post("/api/v1/visits", json=visit(**change))
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["detail"]}
    assert counts(site) == before


def test_a_meeting_records_its_participants(site: Site, official: httpx.Client) -> None:
    body = visit(type="meeting", household_head=None, participants="三组村民代表 12 人")
    body["problems"] = body["problems"][:1]
    response = official.post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["participants"] == "三组村民代表 12 人"


def test_the_visit_page_records_a_visit_and_names_bad_rows(site: Site) -> None:
    cookies = {"minqing_staff": site.token("zhao.jun")}
    with httpx.Client(base_url=site.url("intake"), cookies=cookies, timeout=30) as page:
        blank = page.get("/staff/visits")
        assert blank.status_code == 200
        assert 'name="problems.4.description"' in blank.text
        form = {
            "type": "household",
            "township": "城关镇",
            "village": "东门社区",
            "visited_on": date.today().isoformat(),
            "household_head": "陈阿姨",
            "problems.0.description": "楼道里堆满杂物",
            "problems.0.kind": "complaint",
            "problems.3.description": "想咨询低保怎么申请",
            "problems.3.kind": "consultation",
            "problems.3.contact_phone": "123",
        }
        bad = page.post("/staff/visits", data=form)
        assert bad.status_code == 422
        # The error names the row as the form showed it, not its place among filled rows.
        assert 'id="problems.3.contact_phone-error"' in bad.text
        assert "楼道里堆满杂物" in bad.text
        good = page.post("/staff/visits", data={**form, "problems.3.contact_phone": ""})
        assert good.status_code == 200, good.text
        numbers = site.rows(
            "intake",
            select(Case.tracking_no)
            .where(Case.first_contact_name == "赵军")
            .order_by(Case.tracking_no),
        )
        assert len(numbers) == 2
        assert all(n.tracking_no in good.text for n in numbers)


def test_a_visit_sent_again_with_its_key_is_recorded_once(
    site: Site, official: httpx.Client
) -> None:
    before = counts(site)
    headers = {"Idempotency-Key": "visit-2026-11-30-wang"}
    first = official.post("/api/v1/visits", json=visit(), headers=headers)
    assert first.status_code == 201, first.text
    again = official.post("/api/v1/visits", json=visit(), headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    # The same answer, access codes included: the official may not have seen the first.
    assert again.json() == first.json()
    assert counts(site) == (before[0] + 3, before[1] + 1)

    changed = visit(household_head="王大妈")
    reused = official.post("/api/v1/visits", json=changed, headers=headers)
    assert reused.status_code == 422
    assert [e["field"] for e in reused.json()["detail"]] == ["Idempotency-Key"]
    # Another official's key of the same text is theirs alone.
    with site.client("intake", "zhao.jun") as other:
        theirs = other.post("/api/v1/visits", json=visit(), headers=headers)
        assert theirs.status_code == 201
        assert "Idempotent-Replayed" not in theirs.headers
    assert counts(site) == (before[0] + 6, before[1] + 2)


def test_the_visit_page_records_a_form_sent_twice_once(site: Site) -> None:
    cookies = {"minqing_staff": site.token("li.ming")}
    with httpx.Client(base_url=site.url("intake"), cookies=cookies, timeout=30) as page:
        blank = page.get("/staff/visits").text
        key = blank.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
        assert len(key) >= 24
        form = {
            "idempotency_key": key,
            "type": "household",
            "village": "李家村",
            "visited_on": date.today().isoformat(),
            "household_head": "李奶奶",
            "problems.0.description": "自来水浑浊发黄",
            "problems.0.kind": "complaint",
        }
        before = counts(site)
        first = page.post("/staff/visits", data=form)
        second = page.post("/staff/visits", data=form)
        assert first.status_code == second.status_code == 200
        assert counts(site) == (before[0] + 1, before[1] + 1)
        # The page after recording offers a fresh key for the next visit.
        assert f'value="{key}"' not in first.text
