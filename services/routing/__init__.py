"""Routing: every case reaches the department that must handle it, on that department's queue."""

from pathlib import Path

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.routing.api import routers
from services.routing.catalogue import catalogue_published, load_catalogue, sync_catalogue
from services.routing.classifier import api as classifier_api
from services.routing.classifier.tasks import register_tasks as register_classifier_tasks
from services.routing.handlers import catalogue_cache, subscriptions
from services.routing.models import Base


def _setup(runtime: ServiceRuntime) -> None:
    """Load the catalogue into the tables, tell the other services, declare the queues."""
    entries = load_catalogue()
    with runtime.work() as work:
        sync_catalogue(work.session, entries)
        work.publish(catalogue_published(entries))
    catalogue_cache.clear()
    with runtime.bus.connect() as connection:
        runtime.bus.declare(connection, [runtime.bus.department_queue(e.code) for e in entries])
    register_classifier_tasks(runtime)


SERVICE = ServiceSpec(
    name="routing",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=[*routers, classifier_api.router],
    setup=_setup,
    uses_celery=True,
)
