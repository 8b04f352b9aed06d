"""Reporting: the figures leaders and operators read, built from events alone."""

from pathlib import Path

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.reporting import api, assessment_api, dashboard, hotspots_api
from services.reporting.bulletin import api as bulletin_api
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
    routers=(
        api.router,
        assessment_api.router,
        bulletin_api.router,
        hotspots_api.router,
        dashboard.router,
    ),
    collectors=(_case_figures,),
)
