"""Intake: every channel a citizen uses lands here as a case with a tracking number."""

from pathlib import Path

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

    runtime.every(3600, purge, "intake-purge-idempotency-keys")
    email.start(runtime)


SERVICE = ServiceSpec(
    name="intake",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
    setup=_setup,
)
