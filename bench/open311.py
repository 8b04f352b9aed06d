"""The Open311 benchmark: GeoReport v2 submissions at a fixed rate through the four services.

`minqing bench open311 [--rate R] [--seconds S] [--keep]` starts the four services as the
end-to-end benchmark does (bench/e2e.py, whose machinery it uses), issues an Open311 client key,
then offers open-loop `POST /open311/v2/requests.json` (form-encoded, each naming a service of
the catalogue) at `--rate` per second, and afterwards `GET /open311/v2/requests/{id}.json` for
each case at the same rate. Every accepted case must get its receipt and dispatch SMS. The last
line is machine-readable: `open311_post_p99_ms=… open311_get_p99_ms=… open311_cases=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

# e2e.py lies beside this file; `minqing bench open311` runs this one by path, so say where.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e

ROOT = "/open311/v2"
# The categories the cases name, each one department's; routing dispatches them by category.
CATEGORIES = ("教育文体", "劳动和社会保障", "城乡建设", "卫生计生", "环境保护")


class FormPool(e2e.HttpPool):
    CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass
class Open311Submission(e2e.Submission):
    @property
    def accepted(self) -> bool:
        return self.status == 200 and bool(self.tracking_no)


def issue_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "services", "open311", "add-client", "bench"],
        cwd=e2e.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise e2e.BenchError(f"minqing open311 add-client: {result.stderr.strip()}")
    return result.stdout.strip()


def service_codes(intake_url: str) -> list[str]:
    """The codes of CATEGORIES, once routing's catalogue has reached intake."""
    deadline = time.monotonic() + e2e.READY_TIMEOUT
    while time.monotonic() < deadline:
        services = httpx.get(f"{intake_url}{ROOT}/services.json", timeout=10).json()
        codes = {s["service_name"]: s["service_code"] for s in services}
        if all(c in codes for c in CATEGORIES):
            return [codes[c] for c in CATEGORIES]
        time.sleep(0.2)
    raise e2e.BenchError("intake never offered the catalogue's services")


def bodies(key: str, codes: Sequence[str], count: int, start: int) -> list[bytes]:
    """Distinct form-encoded submissions, encoded before the clock starts."""
    return [
        urlencode(
            {
                "api_key": key,
                "service_code": codes[i % len(codes)],
                "attribute[kind]": e2e.KINDS[i % len(e2e.KINDS)],
                "description": e2e.DESCRIPTIONS[i % len(e2e.DESCRIPTIONS)],
                **_somewhere_in_the_county(i),
                "phone": f"139{i % 10**8:08d}",
            }
        ).encode()
        for i in range(start, start + count)
    ]


def _somewhere_in_the_county(i: int) -> dict[str, str]:
    """A map point of its own for each case, spread over about 30 km by 30 km as a county's are;
    cases all at one point would make every case a possible duplicate of every other."""
    spread = random.Random(i)
    return {
        "lat": f"{29.2 + spread.random() * 0.27:.5f}",
        "long": f"{119.95 + spread.random() * 0.31:.5f}",
    }


async def post(pool: FormPool, body: bytes, submission: Open311Submission) -> None:
    try:
        reply = await asyncio.wait_for(
            pool.request("POST", f"{ROOT}/requests.json", body), e2e.REQUEST_TIMEOUT
        )
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        submission.error = f"{type(exc).__name__}: {exc}"
        return
    submission.sent, submission.answered, submission.status = (
        reply.sent,
        reply.answered,
        reply.status,
    )
    if reply.status == 200:
        submission.tracking_no = json.loads(reply.body)[0]["service_request_id"]
    else:
        submission.error = f"HTTP {reply.status}: {reply.body[:200]!r}"


async def offer(pool: FormPool, phase: e2e.Phase, payloads: Sequence[bytes]) -> None:
    """The phase's Open311 submissions, offered open loop like the web benchmark's."""
    await e2e.offer_open_loop(
        phase, payloads, lambda body, s: post(pool, body, s), Open311Submission
    )


async def read_back(pool: FormPool, tracking_nos: Sequence[str], rate: float) -> list[float]:
    """GET each request at `rate` per second, open loop; milliseconds each, inf if it failed."""
    t0 = time.monotonic() + 0.05

    async def one(tracking_no: str) -> float:
        try:
            reply = await asyncio.wait_for(
                pool.request("GET", f"{ROOT}/requests/{tracking_no}.json"), e2e.REQUEST_TIMEOUT
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            return math.inf
        return (reply.answered - reply.sent) * 1000 if reply.status == 200 else math.inf

    tasks = []
    for i, tracking_no in enumerate(tracking_nos):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(tracking_no)))
    return list(await asyncio.gather(*tasks))


@dataclass
class Outcome:
    post: e2e.Latencies
    get: e2e.Latencies
    cases: int
    offered: int
    cpu: e2e.CpuWindow
    # Intake's own mean time per request, by route: what is left of the latency is waiting.
    requests: dict[str, tuple[int, float]]


async def drive(args: argparse.Namespace, fleet: e2e.Fleet, outbox: Path, key: str) -> Outcome:
    codes = service_codes(fleet["intake"].url)
    pool = FormPool(fleet["intake"].url)
    pools = {s.name: e2e.HttpPool(s.url, size=4) for s in fleet}
    tail = e2e.SmsTail(outbox)
    stop = asyncio.Event()
    failure: list[e2e.BenchError] = []
    background = [
        asyncio.create_task(tail.follow(stop)),
        asyncio.create_task(e2e.watch_processes(fleet, stop, failure)),
    ]
    try:
        warmup = e2e.Phase("warm-up", e2e.WARMUP_RATE, e2e.WARMUP_SECONDS)
        count = round(warmup.rate * warmup.seconds)
        await offer(pool, warmup, bodies(key, codes, count, 0))
        e2e.log(f"warm-up: {len(warmup.accepted)} of {count} accepted")
        phase = e2e.Phase("latency", args.rate, args.seconds)
        payloads = bodies(key, codes, round(args.rate * args.seconds), count)
        e2e.log(f"POST requests.json at {args.rate:g}/s for {args.seconds:g}s")
        cpu_start, before = e2e.CpuSnapshot.take(fleet), await e2e.scrape(fleet, pools)
        await offer(pool, phase, payloads)
        if failure:
            raise failure[0]
        if phase.failed:
            raise e2e.BenchError(
                f"{len(phase.failed)} of {len(phase.submissions)} submissions failed, "
                f"e.g. {phase.failed[0].error}"
            )
        e2e.log(f"GET requests/{{id}}.json at {args.rate:g}/s for each case")
        gets = await read_back(pool, [s.tracking_no for s in phase.accepted], args.rate)
        await e2e.wait_delivered(phase, tail, failure, args.drain_timeout)
        cpu = cpu_start.until(e2e.CpuSnapshot.take(fleet))
        after = await e2e.scrape(fleet, pools)
        e2e.log(f"{len(phase.accepted)} cases routed, both SMS sent for each")
        return Outcome(
            post=e2e.intake_latencies(phase),
            get=e2e.Latencies.of(gets),
            cases=len(phase.accepted),
            offered=len(phase.submissions),
            cpu=cpu,
            requests=e2e.mean_durations(
                before["intake"], after["intake"], "minqing_http_request_duration_seconds"
            ),
        )
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        tail.close()
        pool.close()
        for other in pools.values():
            other.close()


def run(args: argparse.Namespace) -> Outcome:
    with ExitStack() as stack:
        workdir = stack.enter_context(e2e.work_directory(args.keep))
        e2e.log("creating a RabbitMQ vhost and four PostgreSQL databases")
        amqp_url = stack.enter_context(e2e.rabbitmq_vhost(args.amqp_url))
        database_url = stack.enter_context(e2e.postgres_databases(args.postgres_url))
        outbox = workdir / "sms-outbox.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
        env.update(
            MINQING_BROKER_URL=amqp_url,
            MINQING_DATABASE_URL=database_url,
            MINQING_SECRET_KEY=secrets.token_urlsafe(48),
            MINQING_SMS_GATEWAY=f"file://{outbox}",
            MINQING_DATA_DIR=str(workdir / "data"),
            MINQING_LOG_LEVEL="INFO",
            # Every request comes from this one address: a per-address limit would measure itself.
            MINQING_RATE_LIMIT_PER_IP="off",
            # Every case's two SMS must come out whatever the hour, and the department's liaison
            # officer, texted for every case, may share a number with a bench citizen.
            MINQING_QUIET_HOURS="off",
            MINQING_SMS_DAILY_CAP="1000000",
        )
        key = issue_key(env)
        e2e.log("starting intake, routing, notify and reporting")
        fleet = stack.enter_context(e2e.running_fleet(env, workdir, args.http_workers))
        return asyncio.run(drive(args, fleet, outbox, key))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="minqing bench open311", description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long POSTs are offered")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    e2e.add_http_workers_option(parser)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    args = parser.parse_args(arguments)
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        outcome = run(args)
    except e2e.BenchError as exc:
        print(f"minqing bench open311: {exc}", file=sys.stderr)
        return 1
    target = e2e.TARGET_INTAKE_P99_MS
    cpu = outcome.cpu
    services = ", ".join(f"{name} {cores:.2f}" for name, cores in cpu.processes.items())
    lines = [
        "",
        f"Minqing Open311 benchmark, four services ({os.cpu_count()} CPUs; "
        f"HTTP workers {e2e.describe_http_workers(args.http_workers)})",
        f"  POST requests.json at {args.rate:g}/s for {args.seconds:g}s: {outcome.offered} sent, "
        f"{outcome.cases} accepted, routed and notified",
        f"  POST p50/p95/p99 {outcome.post}   target p99 <= {target:g} ms: "
        f"{'PASS' if outcome.post.p99 <= target else 'MISS'}",
        f"  GET requests/{{id}}.json p50/p95/p99 {outcome.get}",
        f"  CPU, cores: {services}; bench {cpu.bench:.2f}; machine {cpu.machine:.2f}",
        *(
            f"  intake's own time {route}: {count} requests, mean {mean_ms:.2f} ms"
            for route, (count, mean_ms) in sorted(outcome.requests.items())
            if "/open311/" in route
        ),
        "",
        f"open311_post_p99_ms={outcome.post.p99:.1f} open311_get_p99_ms={outcome.get.p99:.1f} "
        f"open311_cases={outcome.cases}",
    ]
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
