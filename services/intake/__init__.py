"""Intake: every channel a citizen uses lands here as a case with a tracking number."""

from pathlib import Path

from services.intake import duplicates
from services.intake.api import routers
from services.intake.channels import email
from services.intake.handlers import subscriptions
from services.intake.idempotency import purge_expired
from services.intake.models import Base
from services.kernel.runtime import ServiceRuntime, ServiceSpec


def _setup(runtime: ServiceRuntime) -> None:
    def purge() -> None:
        with runtime.work() as work:
            purge_expired(work)

    def flag_duplicates() -> None:
        # Until a sweep finds nothing: a backlog (after a stop) is worked off at once.
        while True:
            with runtime.work() as work:
                if duplicates.flag_new_cases(work) < duplicates.SWEEP_SIZE:
                    return

    runtime.every(3600, purge, "intake-purge-idempotency-keys")
    runtime.every(1, flag_duplicates, "intake-flag-duplicates")
    email.start(runtime)


SERVICE = ServiceSpec(
    name="intake",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
    setup=_setup,
)
