"""Reporting: the figures leaders and operators read, built from events alone."""

from pathlib import Path

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.reporting.api import routers
from services.reporting.handlers import subscriptions
from services.reporting.metrics import CaseFiguresCollector
from services.reporting.models import Base


def _case_figures(runtime: ServiceRuntime) -> CaseFiguresCollector:
    return CaseFiguresCollector(runtime.database)


SERVICE = ServiceSpec(
    name="reporting",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
    collectors=(_case_figures,),
)
