"""Routing's Celery task: the deadline scan, sent by Celery beat every minute in every mode.

Beat runs inside the service's process (kernel.tasks.CeleryBeat), embedded and in production
alike. Several routing processes each send the scan: harmless, since every step of the scan is
claimed once per order.
"""

from __future__ import annotations

import dataclasses
import logging

from services.kernel.clock import utcnow
from services.kernel.runtime import ServiceRuntime
from services.routing.escalation import scan_deadlines

log = logging.getLogger(__name__)

SCAN_DEADLINES = "routing.scan_deadlines"
SCAN_EVERY_SECONDS = 60.0


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None

    # The service's own task (kernel.tasks.ServiceCelery): it may close over its runtime.
    @runtime.celery.task(name=SCAN_DEADLINES)  # type: ignore[untyped-decorator]
    def scan() -> None:
        with runtime.work() as work:
            result = scan_deadlines(work, utcnow())
        counts = dataclasses.asdict(result)
        if any(counts.values()):
            log.info("deadline scan", extra=counts)

    runtime.schedule(SCAN_DEADLINES, SCAN_EVERY_SECONDS)
