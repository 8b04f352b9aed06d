"""Reporting: the figures leaders and operators read, built from events alone."""

from pathlib import Path

from prometheus_client import REGISTRY

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.reporting.api import routers
from services.reporting.handlers import subscriptions
from services.reporting.metrics import CaseFiguresCollector
from services.reporting.models import Base


def _setup(runtime: ServiceRuntime) -> None:
    collector = CaseFiguresCollector(runtime.database)
    REGISTRY.register(collector)
    runtime.on_stop(lambda: REGISTRY.unregister(collector))


SERVICE = ServiceSpec(
    name="reporting",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
    setup=_setup,
)
