"""Duplicate detection sweeps the cases awaiting it: all of them, once, however many at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services import intake
from services.intake.duplicates import flag_new_cases
from services.intake.models import Case, DuplicateLink
from services.intake.submissions import Submission, accept
from services.kernel.config import load_settings
from services.kernel.events.contracts import Contact, Location
from services.kernel.migrations import upgrade
from services.kernel.runtime import ServiceRuntime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[ServiceRuntime]:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


def test_one_sweep_links_cases_accepted_together_and_the_next_finds_nothing(
    runtime: ServiceRuntime,
) -> None:
    key = runtime.settings.secret_key
    same = Contact(phone="13812345678")
    texts = ["小区路灯坏了一个星期，晚上很黑", "我们小区的路灯已经坏了一周了，晚上出门很黑"]
    for text, contact in [
        (texts[0], same),
        (texts[1], same),
        ("孩子转学手续办了两个月还没办好", same),
        (texts[0], Contact(phone="13900000000")),
    ]:
        # A transaction each: on SQLite a tracking number is taken outside the request's own.
        with runtime.work() as work:
            accept(work, Submission("web", "complaint", text, None, None, contact), key)

    with runtime.work() as work:
        assert flag_new_cases(work) == 4
    with runtime.work() as work:
        assert flag_new_cases(work) == 0

    with runtime.database.session() as session:
        links = session.execute(select(DuplicateLink.reason)).all()
        unchecked = session.scalar(select(func.count()).where(Case.duplicates_checked.is_(False)))
    assert [tuple(link) for link in links] == [("same-contact",)]
    assert unchecked == 0


def test_a_backlog_larger_than_a_sweep_is_worked_off_in_turns(runtime: ServiceRuntime) -> None:
    key = runtime.settings.secret_key
    for n in range(7):
        contact = Contact(phone=f"1381234{n:04d}")
        with runtime.work() as work:
            accept(work, Submission("web", "help", f"求助{n}", None, None, contact), key)

    checked = []
    for _ in range(3):
        with runtime.work() as work:
            checked.append(flag_new_cases(work, limit=3))
    assert checked == [3, 3, 1]


def test_a_sweep_finds_the_same_category_near_a_point_or_at_an_address(
    runtime: ServiceRuntime,
) -> None:
    """Found through grid cells and address keys, on the embedded database as on PostgreSQL."""
    key = runtime.settings.secret_key
    drain = "城乡建设"
    places = [
        Location(lat=29.2000, lon=121.3000),
        Location(lat=29.20155, lon=121.3000),  # about 170 m north: near
        Location(lat=29.1950, lon=121.3000),  # about 560 m south: not near
        Location(address="越溪乡王家村12号"),
        Location(address="越溪乡 王家村 １２号"),
    ]
    texts = ["下水道堵了", "路面积水严重", "排水沟满了", "井盖丢了", "污水冒出来"]
    for n, (text, place) in enumerate(zip(texts, places, strict=True)):
        with runtime.work() as work:
            contact = Contact(phone=f"1380000000{n}")
            accept(work, Submission("web", "complaint", text, drain, place, contact), key)
    with runtime.work() as work:
        assert flag_new_cases(work) == 5
    with runtime.database.session() as session:
        linked = session.execute(
            select(Case.description, DuplicateLink.reason)
            .join(DuplicateLink, DuplicateLink.case_id == Case.id)
            .order_by(Case.description)
        ).all()
    assert sorted(tuple(row) for row in linked) == [
        ("污水冒出来", "same-place"),
        ("路面积水严重", "same-place"),
    ]
