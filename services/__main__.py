"""The `minqing` command: one entry point for every process and tool."""

from __future__ import annotations

import os
import sys

from services.kernel import workers

# Before anything imports prometheus_client, which picks where metrics live when first imported.
workers.share_metrics_between_workers(sys.argv[1:], os.environ)

import argparse  # noqa: E402
import runpy  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from services import intake, notify, reporting, routing  # noqa: E402
from services.kernel.config import (  # noqa: E402
    DEFAULT_SMTP_PORT,
    SERVICE_NAMES,
    ConfigError,
    Settings,
    load_settings,
)
from services.kernel.runtime import DEFAULT_PORTS, ServiceSpec  # noqa: E402
from services.notify import commands as notify_commands  # noqa: E402
from services.reporting import commands as reporting_commands  # noqa: E402
from services.routing import staff as routing_staff  # noqa: E402
from services.routing.classifier import commands as routing_commands  # noqa: E402

SPECS: dict[str, ServiceSpec] = {
    spec.name: spec for spec in (intake.SERVICE, routing.SERVICE, notify.SERVICE, reporting.SERVICE)
}
BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="everything in one process, on the embedded defaults")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--data-dir", help="where the databases and the SMS outbox live (./var)")
    up.add_argument("--smtp-port", type=int, help=f"receive email here ({DEFAULT_SMTP_PORT})")

    serve = commands.add_parser("serve", help="one service, on RabbitMQ and PostgreSQL")
    serve.add_argument("service", choices=SERVICE_NAMES)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, help="default: intake 8001 … reporting 8004")
    serve.add_argument(
        "--smtp-port", type=int, help=f"intake receives email here ({DEFAULT_SMTP_PORT})"
    )
    serve.add_argument(
        "--http-workers",
        type=_positive,
        help="processes answering the HTTP port (1; MINQING_HTTP_WORKERS): this one, which also "
        "runs the consumers, relay and jobs, plus N-1 that answer requests only",
    )

    migrate = commands.add_parser("migrate", help="bring the databases' schemas up to date")
    migrate.add_argument("--service", choices=SERVICE_NAMES, help="only this service")

    replay = commands.add_parser("replay", help="publish a service's recorded events again")
    replay.add_argument("--service", choices=SERVICE_NAMES, required=True)
    replay.add_argument(
        "--since", type=_timestamp, required=True, help="ISO 8601, e.g. 2026-11-01T00:00:00Z"
    )

    routing_staff.add_parser(commands)
    routing_commands.add_parser(commands)
    notify_commands.add_parser(commands)
    reporting_commands.add_parser(commands)

    commands.add_parser(
        "bench",
        help="the end-to-end benchmark (`minqing bench email`: email intake, `minqing bench "
        "routing`: dispatch accuracy, `minqing bench notify`: SMS throughput and latency); --help "
        "for flags",
    )

    open311 = commands.add_parser("open311", help="the API keys of Open311 clients")
    open311_commands = open311.add_subparsers(dest="open311_command", required=True)
    add_client = open311_commands.add_parser(
        "add-client", help="issue a client its API key, printed this once only"
    )
    add_client.add_argument("name")
    revoke_client = open311_commands.add_parser(
        "revoke-client", help="refuse the client's key from now on"
    )
    revoke_client.add_argument("name")
    return parser


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {raw!r}")
    return int(raw)


def _http_worker(argv: Sequence[str]) -> int:
    """An extra HTTP process of `serve --http-workers`; its parent starts it, not people."""
    parser = argparse.ArgumentParser(prog=f"minqing {workers.CHILD_COMMAND}")
    parser.add_argument("service", choices=SERVICE_NAMES)
    parser.add_argument("--fd", type=int, required=True, help="the inherited listening socket")
    parser.add_argument("--parent", type=int, required=True, help="the serve process's pid")
    parser.add_argument("--worker", type=int, required=True, help="its number, for the logs")
    args = parser.parse_args(argv)
    from services.kernel import processes

    processes.serve_http_worker(
        SPECS[args.service], load_settings(), args.fd, args.parent, args.worker
    )
    return 0


def _timestamp(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # The benchmark owns its flags; hand them over untouched. `bench open311` measures the
        # Open311 channel, `bench email` email intake, `bench routing` the dispatch classifier's
        # accuracy, `bench notify` notify's SMS throughput and latency, `bench reporting` the
        # figures over a million cases, anything else the whole pipeline.
        channel_benches = {
            "open311": "open311.py",
            "email": "email_intake.py",
            "routing": "routing_accuracy.py",
            "notify": "notify.py",
            "reporting": "reporting.py",
        }
        if argv[1:2] and argv[1] in channel_benches:
            script, flags = channel_benches[argv[1]], argv[2:]
        else:
            script, flags = "e2e.py", argv[1:]
        sys.argv = [str(BENCH_DIR / script), *flags]
        runpy.run_path(str(BENCH_DIR / script), run_name="__main__")
        return 0
    if argv[:1] == [workers.CHILD_COMMAND]:
        return _http_worker(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "data_dir", None):
        os.environ["MINQING_DATA_DIR"] = args.data_dir
    if args.command in ("up", "serve"):
        # Intake's SMTP receiver listens where HTTP does unless MINQING_SMTP_HOST says otherwise.
        if args.smtp_port is not None:
            os.environ["MINQING_SMTP_PORT"] = str(args.smtp_port)
        os.environ.setdefault("MINQING_SMTP_PORT", str(DEFAULT_SMTP_PORT))
        os.environ.setdefault("MINQING_SMTP_HOST", args.host)
    if getattr(args, "http_workers", None) is not None:
        os.environ[workers.WORKERS_VARIABLE] = str(args.http_workers)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 2

    if args.command == "staff":
        return routing_staff.command(args, settings)
    if args.command == "routing":
        return routing_commands.command(args, settings)
    if args.command == "notify":
        return notify_commands.command(args, notify.SERVICE, settings)
    if args.command == "reporting":
        # Rebuilt from every service that publishes, each read from its own retained outbox.
        producers = [name for name in SPECS if name != reporting.SERVICE.name]
        return reporting_commands.command(args, settings, producers)

    # Imported here so `minqing --help` stays fast and light.
    from services.kernel import processes
    from services.kernel.outbox import replay
    from services.kernel.runtime import ServiceRuntime

    if args.command == "up":
        if not settings.embedded:
            print(
                "minqing: `up` runs on the embedded broker; use `serve` with RabbitMQ",
                file=sys.stderr,
            )
            return 2
        processes.up(list(SPECS.values()), settings, args.host, args.port)
    elif args.command == "serve":
        port = args.port or DEFAULT_PORTS[args.service]
        processes.serve(SPECS[args.service], list(SPECS.values()), settings, args.host, port)
    elif args.command == "migrate":
        chosen = [SPECS[args.service]] if args.service else list(SPECS.values())
        processes.migrate(chosen, settings)
    elif args.command == "replay":
        if settings.embedded:
            print(
                "minqing: replay publishes to a broker; the embedded memory:// broker lives inside "
                "`minqing up`, which replays by itself after an unclean stop",
                file=sys.stderr,
            )
            return 2
        runtime = ServiceRuntime(SPECS[args.service], settings)
        count = replay(args.service, runtime.database, runtime.bus, args.since)
        print(f"replayed {count} events from {args.service} since {args.since.isoformat()}")
    elif args.command == "open311":
        return _open311(args.open311_command, args.name, settings)
    return 0


def _open311(command: str, name: str, settings: Settings) -> int:
    from services.intake.channels.open311_clients import ClientError, manage
    from services.kernel import processes

    processes.migrate([SPECS["intake"]], settings)
    try:
        key = manage(settings, command, name)
    except ClientError as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 1
    if key is None:
        print(f"Open311 client {name!r} revoked: its key is refused from now on")
    else:
        print(f"Open311 client {name!r} added; its API key, shown this once only:", file=sys.stderr)
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
