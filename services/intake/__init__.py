"""Intake: every channel a citizen uses lands here as a case with a tracking number."""

from pathlib import Path

from services.intake.api import routers
from services.intake.handlers import subscriptions
from services.intake.models import Base
from services.kernel.runtime import ServiceSpec

SERVICE = ServiceSpec(
    name="intake",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
)
