"""`minqing reporting rebuild`: the projections again from scratch, from retained events;
`minqing reporting bulletin`: a period's bulletin written to a file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from services.kernel.bus import Bus
from services.kernel.config import Settings
from services.kernel.db import Database
from services.reporting.rebuild import rebuild

BULLETIN_FORMATS = ("text", "html", "pdf", "csv", "xlsx")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reporting = commands.add_parser(
        "reporting", help="reporting tools: rebuild the projections, write a bulletin"
    )
    actions = reporting.add_subparsers(dest="reporting_command", required=True)
    actions.add_parser(
        "rebuild",
        help="empty reporting's projections and fill them again from the events the other "
        "services retain, sent to reporting's queues only",
    )
    bulletin = actions.add_parser(
        "bulletin", help="write a period's bulletin, from reporting's database as it stands"
    )
    bulletin.add_argument(
        "--from", dest="first", type=_day, required=True, help="first day, YYYY-MM-DD"
    )
    bulletin.add_argument("--to", dest="last", type=_day, required=True, help="last day")
    bulletin.add_argument("--format", choices=BULLETIN_FORMATS, default="text")
    bulletin.add_argument("--lang", choices=("zh", "en"), default="zh")
    bulletin.add_argument("--out", type=Path, help="the file to write (text and csv: stdout)")


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day as YYYY-MM-DD: {raw!r}") from None


def command(args: argparse.Namespace, settings: Settings, producers: Sequence[str]) -> int:
    """Run by the operator beside the running services; `producers` name the services whose
    retained events reporting is rebuilt from (each one's own outbox, read with kernel code)."""
    if args.reporting_command == "bulletin":
        return bulletin_command(args, settings)
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


def bulletin_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the bulletin of `--from` to `--to` in `--format` to `--out`."""
    # Imported here: reportlab and openpyxl are for this command, not for every `minqing` call.
    from services.reporting.bulletin.files import bulletin_file
    from services.reporting.bulletin.gather import gather
    from services.reporting.kpis import Period

    if args.last < args.first:
        print("minqing: --to must not be before --from", file=sys.stderr)
        return 2
    if args.out is None and args.format not in ("text", "csv"):
        print(f"minqing: a {args.format} bulletin needs --out FILE", file=sys.stderr)
        return 2
    database = Database(settings.database_url("reporting"), pool_size=1)
    try:
        with database.session() as session:
            bulletin = gather(session, Period(args.first, args.last))
    finally:
        database.dispose()
    content = bulletin_file(bulletin, args.format, args.lang)
    if args.out is None:
        sys.stdout.write(content.decode("utf-8-sig"))
        return 0
    args.out.write_bytes(content)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
