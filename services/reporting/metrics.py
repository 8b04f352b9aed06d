"""The summary's counts as Prometheus metrics, read from the read model at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.kernel.db import Database
from services.reporting.kpis import summary


class CaseFiguresCollector(Collector):
    """Same numbers as `/api/v1/reports/summary`, so dashboards and the API never disagree."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        with self._database.session() as session:
            figures = summary(session)
        received = CounterMetricFamily(
            "minqing_cases_received", "Cases received, by channel", labels=["channel"]
        )
        for channel, count in figures.by_channel.items():
            received.add_metric([channel], count)
        by_status = GaugeMetricFamily("minqing_cases", "Cases by current status", labels=["status"])
        for status, count in figures.by_status.items():
            by_status.add_metric([status], count)
        by_department = GaugeMetricFamily(
            "minqing_cases_by_department", "Cases assigned, by department", labels=["department"]
        )
        for department, count in figures.by_department.items():
            by_department.add_metric([department], count)
        yield from (received, by_status, by_department)
