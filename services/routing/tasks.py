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
# The worker's thread pool runs a task through Celery's default app, which holds the function
# first registered under its name in the process. The task therefore finds the runtime here when
# it runs, so a process that makes routing's runtime again (tests do) scans the live one.
_live: dict[str, ServiceRuntime] = {}


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None
    _live["routing"] = runtime

    @runtime.celery.task(name=SCAN_DEADLINES)  # type: ignore[untyped-decorator]
    def scan() -> None:
        live = _live["routing"]
        with live.work() as work:
            result = scan_deadlines(work, utcnow())
        counts = dataclasses.asdict(result)
        if any(counts.values()):
            log.info("deadline scan", extra=counts)

    runtime.schedule(SCAN_DEADLINES, SCAN_EVERY_SECONDS)
