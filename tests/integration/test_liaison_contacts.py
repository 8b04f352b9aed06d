"""Routing tells notify whom to text about each department's work, the phones sealed on the bus."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services import notify, routing
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.events.contracts import CatalogueContactsPublished, DepartmentContacts
from services.kernel.outbox import processed_events
from services.kernel.runtime import ServiceRuntime
from services.notify.models import Department, LiaisonOfficer
from tests.integration.cross_channel import EventTap
from tests.support import publish_envelopes, wait_until

pytestmark = pytest.mark.integration

# The catalogue's liaison officer for the education bureau (routing/data/catalogue.toml).
EDU_LIAISON = ("edu", "周敏", "13900000101")


def liaisons(runtime: ServiceRuntime) -> list[tuple[str, str, str]]:
    with runtime.database.session() as session:
        rows = session.scalars(select(LiaisonOfficer).order_by(LiaisonOfficer.id))
        return [(row.department_code, row.name, row.phone) for row in rows]


def test_notify_learns_the_liaisons_from_routing_and_the_bus_never_carries_their_phones(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    tap = EventTap(settings.broker_url)
    try:
        notify_runtime = ServiceRuntime(notify.SERVICE, settings)
        notify_runtime.start()
        running.append(notify_runtime)
        routing_runtime = ServiceRuntime(routing.SERVICE, settings)
        routing_runtime.start()
        running.append(routing_runtime)

        found = wait_until(lambda: liaisons(notify_runtime), 20)
        assert found == [EDU_LIAISON]
        with notify_runtime.database.session() as session:
            edu = session.get_one(Department, "edu")
            assert (edu.name, edu.name_en) == ("县教育局", "County Education Bureau")

        bodies = wait_until(
            lambda: [b for b in tap.drain() if b"catalogue.contacts_published" in b], 10
        )
        assert all(EDU_LIAISON[2].encode() not in body for body in tap.bodies)
        data = json.loads(bodies[0])["data"]
        assert {d["code"] for d in data["departments"]} >= {"edu", "housing"}
    finally:
        tap.close()

    # A list published before the one notify holds, delivered late, changes nothing.
    stale = CatalogueContactsPublished(
        departments=(DepartmentContacts(code="old", name="旧", name_en="Old", sealed_liaisons=""),)
    ).envelope(producer="routing")
    stale = stale.model_copy(update={"occurred_at": utcnow() - timedelta(hours=1)})
    publish_envelopes(settings.broker_url, [stale])
    wait_until(lambda: processed(notify_runtime, stale.id), 15)
    assert liaisons(notify_runtime) == [EDU_LIAISON]


def processed(runtime: ServiceRuntime, event_id: uuid.UUID) -> bool:
    with runtime.database.session() as session:
        handled = select(processed_events.c.handler).where(processed_events.c.event_id == event_id)
        return "notify.learn_contacts" in session.scalars(handled).all()
