"""Reporting: the figures leaders and operators read, built from events alone."""

from pathlib import Path

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.reporting import api, assessment_api, dashboard, hotspots_api, open_data
from services.reporting.assessment import configured_rules
from services.reporting.bulletin import api as bulletin_api
from services.reporting.bulletin.tasks import register_tasks as register_bulletin_tasks
from services.reporting.handlers import subscriptions
from services.reporting.metrics import CaseFiguresCollector
from services.reporting.models import Base


def _case_figures(runtime: ServiceRuntime) -> CaseFiguresCollector:
    return CaseFiguresCollector(runtime.database)


def _setup(runtime: ServiceRuntime) -> None:
    # A bad rules file stops reporting at start, not its first reader days later.
    configured_rules()
    register_bulletin_tasks(runtime)


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
        open_data.router,
    ),
    setup=_setup,
    uses_celery=True,
    collectors=(_case_figures,),
)
