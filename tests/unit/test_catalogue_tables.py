"""The catalogue in routing's tables (SQLite): the first load, and the guard for manual dispatch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import routing
from services.kernel.auth import Staff
from services.kernel.db import Database
from services.kernel.migrations import upgrade
from services.routing.catalogue import (
    CatalogueRefusal,
    dispatch_refusal,
    install_catalogue,
    load_catalogue_file,
    never_loaded,
    read_rules,
    retire_department,
    retire_rule,
    update_rule,
)
from services.routing.dispatch import DispatchRule, effective_rules
from services.routing.models import CatalogueChange

ADMIN = Staff(staff_id="a1", name="李管理", roles=frozenset({"admin"}))


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path}/routing.db"
    upgrade("routing", routing.SERVICE.migrations, url)
    database = Database(url)
    with database.session() as session:
        install_catalogue(session, load_catalogue_file())
        session.flush()
        yield session
    database.dispose()


def test_the_first_load_is_recorded_so_a_restart_does_not_load_again(session: Session) -> None:
    assert not never_loaded(session)
    rules = read_rules(session)
    assert rules.department_kinds["taoyuan"] == "village"
    assert rules.territorial["yuexi-taoyuan"] == "taoyuan"
    assert rules.territories["yuexi-taoyuan-3"].parent == "yuexi-taoyuan"


def test_a_manual_dispatch_of_a_functional_matter_to_a_village_is_refused(
    session: Session,
) -> None:
    refusal = dispatch_refusal(session, "城乡建设", "taoyuan")

    assert refusal is not None
    assert "housing" in refusal.en
    assert dispatch_refusal(session, "城乡建设", "yuexi") is None
    assert dispatch_refusal(session, None, "taoyuan") is None


def test_an_edit_keeps_every_version_and_audits_before_and_after(session: Session) -> None:
    edited = DispatchRule(
        "chemical-accident", 0, lead="env", co=("health",), keywords=("泄漏",), major=True
    )
    update_rule(session, ADMIN, edited)
    retire_rule(session, ADMIN, "chemical-accident", date(2030, 1, 1))
    session.flush()

    versions = [r for r in read_rules(session).rules if r.key == "chemical-accident"]
    assert [(r.version, r.retired) for r in versions] == [(1, False), (2, False), (3, True)]
    assert [r.co for r in effective_rules(tuple(versions), date(2029, 12, 31))] == [("health",)]
    assert effective_rules(tuple(versions), date(2030, 1, 1)) == []
    actions = session.scalars(
        select(CatalogueChange.action).where(CatalogueChange.entity_key == "chemical-accident")
    ).all()
    assert actions == ["update", "retire"]


def test_a_department_named_by_a_rule_in_force_cannot_be_retired(session: Session) -> None:
    changes = session.scalar(select(func.count()).select_from(CatalogueChange))

    with pytest.raises(CatalogueRefusal) as refused:
        retire_department(session, ADMIN, "env")

    assert refused.value.status == 409
    assert "chemical-accident" in refused.value.reason.en
    assert session.scalar(select(func.count()).select_from(CatalogueChange)) == changes
