"""Reporting's Celery task: the scheduled bulletins, sent by Celery beat in every mode.

Beat asks every quarter of an hour whether last week's or last month's bulletin (China time) is
still to be produced, rather than firing once on the Monday or the 1st: a service that was down
then still produces it when it is back. Several reporting processes may ask at once; the
period's key stores each bulletin once.
"""

from __future__ import annotations

import logging

from services.kernel.clock import utcnow
from services.kernel.runtime import ServiceRuntime
from services.reporting.bulletin.publishing import publish_due

log = logging.getLogger(__name__)

PUBLISH_DUE_BULLETINS = "reporting.publish_due_bulletins"
LOOK_EVERY_SECONDS = 15 * 60.0


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None

    @runtime.celery.task(name=PUBLISH_DUE_BULLETINS)  # type: ignore[untyped-decorator]
    def publish() -> None:
        with runtime.work() as work:
            published = publish_due(work.session, utcnow())
            for bulletin in published:
                log.info(
                    "bulletin published",
                    extra={"kind": bulletin.kind, "first": str(bulletin.first_day)},
                )

    runtime.schedule(PUBLISH_DUE_BULLETINS, LOOK_EVERY_SECONDS)
