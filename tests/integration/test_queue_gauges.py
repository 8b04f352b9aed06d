"""Consumer lag and consumers per queue, as a service's runtime reads them from RabbitMQ."""

from __future__ import annotations

from contextlib import suppress

import pytest
from kombu import Connection
from prometheus_client import REGISTRY

from services import reporting
from services.kernel import runtime as runtime_module
from services.kernel.bus import Bus
from services.kernel.config import Settings
from services.kernel.runtime import QueueGauges, ServiceRuntime
from services.kernel.telemetry import CONSUMER_LAG, QUEUE_CONSUMERS
from tests.support import wait_until

pytestmark = pytest.mark.integration

BACKLOG = 7


def sample(metric: str, queue: str) -> float | None:
    return REGISTRY.get_sample_value(metric, {"service": "reporting", "queue": queue})


def publish_to_queue(url: str, queue: str, count: int) -> None:
    """`count` persistent, confirmed messages straight into `queue` (the default exchange)."""
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        for _ in range(count):
            producer.publish(b"{}", exchange="", routing_key=queue, delivery_mode=2)


def test_lag_gauge_reports_the_messages_waiting_in_a_queue_nobody_consumes(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    queues = [s.queue_name for s in reporting.SERVICE.subscriptions]
    waiting, *idle = queues
    publish_to_queue(settings.broker_url, waiting, BACKLOG)
    try:
        runtime.queue_gauges.refresh()
    finally:
        runtime.queue_gauges.close()
        runtime.database.dispose()
    assert sample("minqing_consumer_lag_messages", waiting) == BACKLOG
    assert sample("minqing_queue_consumers", waiting) == 0
    for queue in idle:
        assert sample("minqing_consumer_lag_messages", queue) == 0, queue


def test_a_running_service_keeps_measuring_its_queues_and_their_consumers(
    settings: Settings, running: list[ServiceRuntime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "QUEUE_GAUGES_INTERVAL", 0.2)
    queues = [s.queue_name for s in reporting.SERVICE.subscriptions]
    for queue in queues:
        for gauge in (CONSUMER_LAG, QUEUE_CONSUMERS):
            with suppress(KeyError):
                gauge.remove("reporting", queue)
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    runtime.start()
    running.append(runtime)
    assert runtime.wait_ready(30)

    def measured_with_consumers() -> bool:
        return all(
            sample("minqing_queue_consumers", q) == 1
            and sample("minqing_consumer_lag_messages", q) == 0
            for q in queues
        )

    wait_until(measured_with_consumers, 10)


def test_a_missing_queue_has_no_lag_series_and_hides_no_other_queue(settings: Settings) -> None:
    waiting = next(iter(reporting.SERVICE.subscriptions)).queue_name
    publish_to_queue(settings.broker_url, waiting, BACKLOG)
    # The broker closes the channel over the missing queue; the next queue is still read.
    gauges = QueueGauges("reporting", Bus(settings.broker_url), ["reporting.gone", waiting])
    try:
        gauges.refresh()
    finally:
        gauges.close()
    assert sample("minqing_consumer_lag_messages", "reporting.gone") is None
    assert sample("minqing_consumer_lag_messages", waiting) == BACKLOG
