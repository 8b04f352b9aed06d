"""Retraining from the dispatchers' decisions: a Celery task, sent by Celery beat every hour."""

from __future__ import annotations

import logging

from services.kernel.runtime import ServiceRuntime
from services.routing.classifier.training import retrain_if_due

RETRAIN = "routing.retrain_classifier"
RETRAIN_EVERY_SECONDS = 3600
log = logging.getLogger(__name__)


def retrain_classifier(runtime: ServiceRuntime) -> None:
    """Retrain if enough new decisions exist; one run at a time is plenty, and a second run
    straight after finds nothing new and returns."""
    with runtime.work() as work:
        trained = retrain_if_due(work.session)
    if trained is not None:
        log.info(
            "classifier retrained",
            extra={"version": trained.version, "examples": trained.examples},
        )


def register_tasks(runtime: ServiceRuntime) -> None:
    assert runtime.celery is not None

    # The service's own task (kernel.tasks.ServiceCelery): it may close over its runtime.
    @runtime.celery.task(name=RETRAIN)  # type: ignore[untyped-decorator]
    def retrain() -> None:
        retrain_classifier(runtime)

    runtime.schedule(RETRAIN, RETRAIN_EVERY_SECONDS)
