"""`minqing notify reply`: hand notify a citizen's SMS, as a gateway would."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from services.kernel.config import Settings
from services.kernel.runtime import ServiceRuntime, ServiceSpec
from services.notify.gateways import InboundSms
from services.notify.replies import take_reply


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`minqing notify reply --from NUMBER TEXT`."""
    notify = commands.add_parser("notify", help="notify tools: take in a citizen's SMS reply")
    actions = notify.add_subparsers(dest="notify_command", required=True)
    reply = actions.add_parser(
        "reply", help="take in an SMS a citizen sent us (TD, JD, 1/2/3 or a message)"
    )
    reply.add_argument("--from", dest="sender", required=True, metavar="NUMBER")
    reply.add_argument("--ref", help="the gateway's id of the SMS: the same id twice is taken once")
    reply.add_argument("text")


def command(args: argparse.Namespace, spec: ServiceSpec, settings: Settings) -> int:
    runtime = ServiceRuntime(spec, settings)
    # What the reply records is published by the running notify service's outbox relay, and
    # an answer it queues is sent by its worker (embedded: its sweep of queued messages).
    try:
        with runtime.work() as work:
            take_reply(
                work,
                InboundSms(
                    sender=args.sender,
                    text=args.text,
                    received_at=datetime.now(UTC),
                    gateway_ref=args.ref,
                ),
            )
    finally:
        runtime.relay.database.dispose()
        runtime.database.dispose()
    print("reply taken")
    return 0
