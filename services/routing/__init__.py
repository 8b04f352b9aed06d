"""Routing: every case reaches the department that must handle it, on that department's queue."""

from pathlib import Path

from sqlalchemy import select

from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.routing import catalogue_api, catalogue_cache
from services.routing.api import routers
from services.routing.catalogue import (
    install_catalogue,
    load_catalogue_file,
    never_loaded,
    published_catalogue,
    published_contacts,
)
from services.routing.classifier import api as classifier_api
from services.routing.classifier.tasks import register_tasks as register_classifier_tasks
from services.routing.handlers import subscriptions
from services.routing.inbound import DepartmentUpdates
from services.routing.models import Base, Department
from services.routing.tasks import register_tasks


def _setup(runtime: ServiceRuntime) -> None:
    """Load the catalogue on the first start, tell the other services, declare the queues."""
    with runtime.work() as work:
        # Once loaded the catalogue is the admins' to edit: a restart never undoes their edits.
        if never_loaded(work.session):
            install_catalogue(work.session, load_catalogue_file())
            work.session.flush()
        work.publish(published_catalogue(work.session))
        work.publish(published_contacts(work.session, runtime.settings.secret_key))
        codes = list(work.session.scalars(select(Department.code)))
    catalogue_cache.forget()
    with runtime.bus.connect() as connection:
        runtime.bus.declare(connection, [runtime.bus.department_queue(code) for code in codes])
    department_updates = DepartmentUpdates(runtime)
    department_updates.start()
    runtime.on_stop(department_updates.stop)
    register_tasks(runtime)
    register_classifier_tasks(runtime)


SERVICE = ServiceSpec(
    name="routing",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=[*routers, catalogue_api.router, catalogue_api.page_router, classifier_api.router],
    setup=_setup,
    uses_celery=True,
)
