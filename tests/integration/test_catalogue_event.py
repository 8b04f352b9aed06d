"""Routing tells intake its catalogue over the bus; intake keeps only the latest one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services import intake, routing
from services.intake.models import CatalogueCategory
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.events.contracts import CatalogueDepartment, CataloguePublished
from services.kernel.runtime import ServiceRuntime
from services.kernel.telemetry import EVENTS_CONSUMED
from tests.support import publish_envelopes, wait_until

pytestmark = pytest.mark.integration


def categories(runtime: ServiceRuntime) -> list[tuple[str, str]]:
    with runtime.database.session() as session:
        rows = session.scalars(select(CatalogueCategory).order_by(CatalogueCategory.position))
        return [(row.category, row.department_code) for row in rows]


def publish(settings: Settings, event: CataloguePublished, minutes_ago: float) -> None:
    envelope = event.envelope(producer="routing").model_copy(
        update={"occurred_at": utcnow() - timedelta(minutes=minutes_ago)}
    )
    publish_envelopes(settings.broker_url, [envelope])


def only(code: str, *names: str) -> CataloguePublished:
    return CataloguePublished(
        departments=(CatalogueDepartment(code=code, name=code, name_en=code, categories=names),)
    )


def test_routings_start_publishes_the_catalogue_and_intake_keeps_the_latest(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    intake_runtime = ServiceRuntime(intake.SERVICE, settings)
    intake_runtime.start()
    running.append(intake_runtime)
    routing_runtime = ServiceRuntime(routing.SERVICE, settings)
    routing_runtime.start()
    running.append(routing_runtime)

    found = wait_until(lambda: categories(intake_runtime), 15)
    assert ("教育文体", "edu") in found
    assert ("越溪乡", "yuexi") in found

    # A catalogue published before the one intake holds, delivered late, changes nothing.
    consumed = EVENTS_CONSUMED.labels("intake", "keep_catalogue", "catalogue.published.v1")
    before = consumed._value.get()
    publish(settings, only("old", "过时的类别"), minutes_ago=60)
    wait_until(lambda: consumed._value.get() == before + 1, 15)
    assert categories(intake_runtime) == found
    # A newer one replaces it whole.
    publish(settings, only("env", "生态环境", "噪声"), minutes_ago=-1)
    wait_until(lambda: categories(intake_runtime) == [("生态环境", "env"), ("噪声", "env")], 15)
