"""Prometheus metrics shared by every service, and JSON logs with personal data masked."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

# `_created` series double every counter's cardinality and nobody charts them.
disable_created_metrics()  # type: ignore[no-untyped-call]

EVENTS_PUBLISHED = Counter(
    "minqing_events_published_total", "Events published to the broker", ["service", "type"]
)
EVENTS_CONSUMED = Counter(
    "minqing_events_consumed_total",
    "Events handled and committed",
    ["service", "handler", "type"],
)
EVENTS_DUPLICATE = Counter(
    "minqing_events_duplicate_total",
    "Events skipped because the handler had processed them already",
    ["service", "handler", "type"],
)
EVENTS_FAILED = Counter(
    "minqing_events_failed_total",
    "Handler attempts that raised",
    ["service", "handler", "type"],
)
EVENTS_DEAD_LETTERED = Counter(
    "minqing_events_dead_lettered_total",
    "Messages moved to the dead-letter exchange",
    ["service", "handler", "reason"],
)
HANDLER_DURATION = Histogram(
    "minqing_handler_duration_seconds",
    "Time to handle one event, commit included",
    ["service", "handler"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# Every process of a service reads the same outbox table: the latest reading of a live one is it.
OUTBOX_BACKLOG = Gauge(
    "minqing_outbox_backlog",
    "Recorded events not yet published",
    ["service"],
    multiprocess_mode="livemostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "minqing_outbox_oldest_unsent_age_seconds",
    "Age of the oldest recorded event not yet published",
    ["service"],
    multiprocess_mode="livemostrecent",
)
# Read from the broker by each service's main process; a queue is a queue, whoever reads it.
CONSUMER_LAG = Gauge(
    "minqing_consumer_lag_messages",
    "Messages ready in a service's queue, not yet taken by a consumer",
    ["service", "queue"],
    multiprocess_mode="livemostrecent",
)
QUEUE_CONSUMERS = Gauge(
    "minqing_queue_consumers",
    "Consumers the broker has on a service's queue (RabbitMQ only)",
    ["service", "queue"],
    multiprocess_mode="livemostrecent",
)
HTTP_REQUESTS = Counter(
    "minqing_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "minqing_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
TASKS = Counter("minqing_tasks_total", "Celery tasks run", ["task", "outcome"])

# Several processes on one port (`serve --http-workers`) write their samples to files in this
# directory, set before prometheus_client was first imported; /metrics then adds them all up.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ


def _exposed_registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


_EXPOSED = _exposed_registry()


def register_collector(collector: Collector) -> Callable[[], None]:
    """Export a custom collector's metrics on /metrics; returns what unregisters it.

    In multi-process mode the metrics above come from the shared files, and such a collector
    (which reads the database when scraped) answers from whichever process serves the scrape.
    """
    _EXPOSED.register(collector)
    return lambda: _EXPOSED.unregister(collector)


def exposition() -> bytes:
    """The text /metrics serves."""
    return generate_latest(_EXPOSED)


# Mainland mobile numbers, 18-digit resident ID numbers and email addresses.
_ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?[0-9]{4}[- ]?([0-9]{4})(?![0-9])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_pii(text: str) -> str:
    """Mask phone numbers, ID numbers and email addresses in free text."""
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}********{m[2]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)


_IGNORED_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string is masked before it leaves the process."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _IGNORED_RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_pii(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str = "INFO", **fields: object) -> None:
    """JSON lines on stderr; `fields` go on every line (e.g. which HTTP worker wrote it)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    if fields:

        def stamp(record: logging.LogRecord) -> bool:
            record.__dict__.update(fields)
            return True

        handler.addFilter(stamp)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("amqp", "kombu", "celery", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
