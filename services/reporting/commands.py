"""`minqing reporting rebuild`: the projections again from scratch, from retained events."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.kernel.bus import Bus
from services.kernel.config import Settings
from services.kernel.db import Database
from services.reporting.rebuild import rebuild


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reporting = commands.add_parser("reporting", help="reporting tools: rebuild the projections")
    actions = reporting.add_subparsers(dest="reporting_command", required=True)
    actions.add_parser(
        "rebuild",
        help="empty reporting's projections and fill them again from the events the other "
        "services retain, sent to reporting's queues only",
    )


def command(settings: Settings, producers: Sequence[str]) -> int:
    """Run by the operator beside the running services; `producers` name the services whose
    retained events reporting is rebuilt from (each one's own outbox, read with kernel code)."""
    if settings.embedded:
        print(
            "minqing: reporting rebuild publishes to a broker; the embedded memory:// broker "
            "lives inside `minqing up`; run it against RabbitMQ",
            file=sys.stderr,
        )
        return 2
    own = Database(settings.database_url("reporting"), pool_size=1)
    sources = {name: Database(settings.database_url(name), pool_size=1) for name in producers}
    try:
        rebuilt = rebuild(own, Bus(settings.broker_url), sources)
    finally:
        for database in (own, *sources.values()):
            database.dispose()
    print(rebuilt.summary())
    return 0
