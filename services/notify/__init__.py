"""Notify: every step of a case reaches the citizen, exactly once."""

from pathlib import Path

from services.kernel.runtime import ServiceSpec
from services.notify import progress  # noqa: F401  (registers its handler on `subscriptions`)
from services.notify.api import routers
from services.notify.handlers import subscriptions
from services.notify.models import Base
from services.notify.tasks import register_tasks

SERVICE = ServiceSpec(
    name="notify",
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    subscriptions=subscriptions,
    routers=routers,
    setup=register_tasks,
    uses_celery=True,
)
