"""Retraining from the dispatchers' decisions: a Celery task, sent by Celery beat every hour."""

from __future__ import annotations

import logging

from services.kernel.runtime import ServiceRuntime
from services.routing.classifier.training import retrain_if_due

RETRAIN = "routing.retrain_classifier"
RETRAIN_EVERY_SECONDS = 3600
log = logging.getLogger(__name__)

# The routing runtime of this process. The worker's thread pool finds a task by name in
# Celery's shared registry, where the first app to register a name wins; the task therefore
# must not close over its runtime, or a second runtime in one process (tests) would run the
# first one's. One routing runtime per process in production; the latest one in tests.
_runtime: list[ServiceRuntime] = []


def retrain_classifier() -> None:
    """Retrain if enough new decisions exist; one run at a time is plenty, and a second run
    straight after finds nothing new and returns."""
    runtime = _runtime[-1]
    with runtime.work() as work:
        trained = retrain_if_due(work.session)
    if trained is not None:
        log.info(
            "classifier retrained",
            extra={"version": trained.version, "examples": trained.examples},
        )


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None
    _runtime[:] = [runtime]
    runtime.celery.task(name=RETRAIN)(retrain_classifier)
    runtime.schedule(RETRAIN, RETRAIN_EVERY_SECONDS)
