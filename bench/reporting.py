"""How fast reporting answers its figures over a million cases, and how fast it projects events.

`minqing bench reporting [--cases N] [--repeats R] [--events N] [--rebuild-events N]
[--postgres-url URL] [--amqp-url URL]` makes a PostgreSQL database of its own and migrates
reporting's schema, then:

1. loads N cases (1,000,000) of facts spread over a year, with their messages, in bulk SQL, and
   times every figure (`figures()`, as `/api/v1/reports/kpis` computes them) for a day, a week,
   a month, a quarter and a year, each unfiltered and under several filters, R (3) times: p50
   and max per query against 200 ms;
2. publishes N realistic case and message events (20,000) on a RabbitMQ vhost of its own and
   times reporting's own consumers applying them all, against 2,000 events/s;
3. with `--rebuild-events N`, empties the projections and times `rebuild()` replaying N events
   from a producer's outbox through the same consumers; 1,000,000 events must take at most ten
   minutes. A smaller N is extrapolated linearly, and the output says so.

The database and vhost are removed at the end, also on error. The last line is machine-readable:
`kpi_p50_ms=… kpi_p99_ms=… kpi_max_ms=… kpi_pass=… projection_events_per_s=… rebuild_seconds=…`.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services import intake, reporting
from services.kernel.bus import EVENTS_EXCHANGE, Bus, Destination
from services.kernel.config import Settings, load_settings
from services.kernel.db import Database
from services.kernel.events.contracts import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseRated,
    CaseResolved,
    CaseSubmitted,
    Contact,
    Location,
    MessageDelivered,
    MessageSent,
    WorkOrderMoved,
)
from services.kernel.events.envelope import Envelope
from services.kernel.events.registry import Event
from services.kernel.migrations import upgrade
from services.kernel.outbox import outbox, outbox_rows
from services.kernel.processes import declare_topology
from services.kernel.runtime import ServiceRuntime
from services.kernel.workdays import LOCAL_TZ
from services.reporting.kpis import Filters, Period, figures
from services.reporting.rebuild import clear, rebuild
from tests.support import TEST_SECRET, publish_envelopes


def _load_e2e() -> ModuleType:
    """The end-to-end benchmark's helpers (its vhost of its own), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "minqing_bench_e2e", Path(__file__).with_name("e2e.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


e2e = _load_e2e()

TARGET_MS = 200.0
TARGET_EVENTS_PER_S = 2000.0
TARGET_REBUILD_S = 600.0
REBUILD_SCALE = 1_000_000
# The year of facts ends here; periods are read back from it.
LAST_DAY = date(2026, 11, 30)

# Categories, departments, townships and villages as a county has them: a few dozen of each
# kind, a few hundred villages. Each case picks one at random; kinds and channels are skewed
# the way a hotline's are.
_LOAD_CASES = """
INSERT INTO case_facts (
    case_id, tracking_no, channel, kind, category, status, department_code, department_name,
    submitted_at, updated_at, answered_directly, answered_at, dispatched_at, assigned_at,
    accepted_at, deadline, deadline_set_at, resolved_at, resolved_on_time, handling_seconds,
    closed_at, merged_at, returns, returned_at, rehandles, overdue_at, urges, urged_at,
    supervisions, supervised_at, rating, satisfied, rated_at, scope_level, township, village,
    first_contact_id, first_contact_name, revisits, revisited_at, finished_at
)
WITH drawn AS (
    -- Moments as seconds since the epoch until the end: arithmetic, not time zone lookups.
    SELECT n,
        %(first)s + random() * 365 * 86400 AS submitted,
        (ARRAY['hotline','hotline','hotline','web','web','email','visit','open311','sms'])
            [1 + floor(random() * 9)::int] AS channel,
        (ARRAY['complaint','complaint','complaint','help','help','consultation','consultation',
               'suggestion','tip-off','praise'])[1 + floor(random() * 10)::int] AS kind,
        floor(random() * 40)::int AS category,
        floor(random() * 25)::int AS department,
        floor(random() * 15)::int AS township,
        floor(random() * 20)::int AS village,
        (ARRAY['society','village','villager-group','family','individual','individual'])
            [1 + floor(random() * 6)::int] AS scope_level,
        random() AS route, random() AS fate, random() AS late, random() AS mood,
        -ln(1 - random()) AS pace
    FROM generate_series(1, %(cases)s) AS n
), stepped AS (
    SELECT d.*,
        d.kind = 'consultation' AND d.route < 0.5 AS answered,
        d.route >= 0.5 AND d.route < 0.51 AS merged,
        CASE WHEN NOT (d.kind = 'consultation' AND d.route < 0.5)
                  AND NOT (d.route >= 0.5 AND d.route < 0.51)
             THEN d.submitted + d.pace * 7200 END AS dispatched
    FROM drawn AS d
), handled AS (
    SELECT s.*,
        CASE WHEN s.fate < 0.998 THEN s.dispatched + s.pace * 36000 END AS accepted,
        CASE WHEN s.route > 0.95 THEN s.dispatched + 10800 END AS returned,
        -- The deadline: the day in China (UTC+8) 15 days after dispatch, as a day number.
        floor((s.dispatched + 28800) / 86400) + 15 AS deadline_day
    FROM stepped AS s
), resolved AS (
    SELECT h.*,
        CASE WHEN h.fate < 0.99 AND h.accepted + h.pace * h.late * 12 * 86400 < %(now)s
             THEN h.accepted + h.pace * h.late * 12 * 86400 END AS resolved
    FROM handled AS h
), ended AS (
    SELECT r.*,
        CASE WHEN r.resolved + 2 * 86400 < %(now)s AND r.mood < 0.8
             THEN r.resolved + 2 * 86400 END AS closed,
        CASE WHEN r.resolved + 86400 < %(now)s AND r.mood < 0.6
             THEN r.resolved + 86400 END AS rated,
        CASE WHEN coalesce(r.resolved, %(now)s) >= (r.deadline_day + 1) * 86400 - 28800
             THEN (r.deadline_day + 1) * 86400 - 28800 END AS overdue,
        CASE WHEN r.merged THEN r.submitted + 3600 END AS merged_at
    FROM resolved AS r
)
SELECT gen_random_uuid(), lpad(n::text, 12, '0'), channel, kind, 'cat-' || category,
    CASE WHEN merged THEN 'merged' WHEN answered THEN 'answered'
         WHEN closed IS NOT NULL THEN 'closed' WHEN resolved IS NOT NULL THEN 'resolved'
         WHEN accepted IS NOT NULL THEN 'accepted' ELSE 'dispatched' END,
    CASE WHEN dispatched IS NOT NULL THEN 'dept-' || department END,
    CASE WHEN dispatched IS NOT NULL THEN 'dept-' || department END,
    to_timestamp(submitted), to_timestamp(submitted), answered,
    to_timestamp(CASE WHEN answered THEN submitted END),
    to_timestamp(dispatched), to_timestamp(dispatched), to_timestamp(accepted),
    date '1970-01-01' + deadline_day::int, to_timestamp(dispatched), to_timestamp(resolved),
    floor((resolved + 28800) / 86400) <= deadline_day,
    resolved - submitted,
    to_timestamp(closed), to_timestamp(merged_at),
    CASE WHEN returned IS NOT NULL THEN 1 ELSE 0 END, to_timestamp(returned),
    CASE WHEN resolved IS NOT NULL AND mood > 0.97 THEN 1 ELSE 0 END,
    to_timestamp(overdue),
    CASE WHEN overdue IS NOT NULL AND late > 0.5 THEN 1 ELSE 0 END,
    to_timestamp(CASE WHEN overdue IS NOT NULL AND late > 0.5 THEN overdue + 86400 END),
    CASE WHEN overdue IS NOT NULL AND late > 0.8 THEN 1 ELSE 0 END,
    to_timestamp(CASE WHEN overdue IS NOT NULL AND late > 0.8 THEN overdue + 3 * 86400 END),
    CASE WHEN rated IS NULL THEN NULL WHEN mood < 0.5 THEN 'satisfied'
         WHEN mood < 0.57 THEN 'basically-satisfied' ELSE 'dissatisfied' END,
    CASE WHEN rated IS NOT NULL THEN mood < 0.57 END,
    to_timestamp(rated), scope_level, 'town-' || township,
    'town-' || township || '-village-' || village,
    CASE WHEN channel = 'visit' THEN 'official-' || village END,
    CASE WHEN channel = 'visit' THEN 'official' END,
    0, NULL,
    to_timestamp(least(resolved, CASE WHEN answered THEN submitted END, closed, merged_at))
FROM ended
-- Rows lie in the table in the order cases came in, as a live system writes them.
ORDER BY submitted
"""

# Notify's messages about each case: the receipt, the dispatch notice and the reply; nearly all
# delivered within a minute, a few failed, a few never heard of again.
_LOAD_MESSAGES = """
INSERT INTO message_facts (message_id, case_id, channel, template, sent_at, delivered_at,
                           failed_at)
SELECT gen_random_uuid(), f.case_id, 'sms', m.template, m.sent_at,
    CASE WHEN m.luck < 0.95 THEN m.sent_at + m.luck * interval '1 minute' END,
    CASE WHEN m.luck >= 0.98 THEN m.sent_at + interval '1 hour' END
FROM case_facts AS f
CROSS JOIN LATERAL (VALUES ('case_received', f.submitted_at, random()),
                           ('case_dispatched', f.dispatched_at, random()),
                           ('case_resolved', f.resolved_at, random()))
    AS m(template, sent_at, luck)
WHERE m.sent_at IS NOT NULL
ORDER BY m.sent_at
"""

_SECONDARY_INDEXES = b"""
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename IN ('case_facts', 'message_facts') AND indexname NOT LIKE 'pk_%'
"""


def load_facts(url: str, cases: int) -> tuple[int, float]:
    """Fill the read model with `cases` cases over the year to LAST_DAY; messages, seconds."""
    end = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    now = end.timestamp()
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        # Sorts and index builds in memory rather than in temporary files.
        connection.execute(b"SET work_mem = '256MB'")
        connection.execute(b"SET maintenance_work_mem = '256MB'")
        # Indexes built once after the load, not row by row during it: minutes less.
        indexes = connection.execute(_SECONDARY_INDEXES).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"'.encode())
        # The same county every run.
        connection.execute(b"SELECT setseed(0.2026)")
        connection.execute(
            _LOAD_CASES.encode(),
            {"first": now - 365 * 86400, "now": now, "cases": cases},
        )
        connection.execute(_LOAD_MESSAGES.encode())
        for _, statement in indexes:
            connection.execute(statement.encode())
        # A live database is vacuumed by autovacuum: the visibility map lets scans skip the heap.
        connection.execute(b"VACUUM ANALYZE case_facts")
        connection.execute(b"VACUUM ANALYZE message_facts")
        messages = connection.execute(b"SELECT count(*) FROM message_facts").fetchone()
    return (messages[0] if messages else 0), time.perf_counter() - started


# Periods ending on LAST_DAY, the latest a leader reads, and one in the middle of the year.
def periods() -> dict[str, Period]:
    """The periods timed: each one a leader reads."""
    return {
        "day": Period(LAST_DAY, LAST_DAY),
        "week": Period(LAST_DAY - timedelta(days=6), LAST_DAY),
        "month": Period(LAST_DAY.replace(day=1), LAST_DAY),
        "mid-year month": Period(date(2026, 5, 1), date(2026, 5, 31)),
        "quarter": Period(date(2026, 9, 1), LAST_DAY),
        "year": Period(LAST_DAY - timedelta(days=364), LAST_DAY),
    }


FILTERS: dict[str, Filters] = {
    "all": Filters(),
    "department": Filters(department="dept-3"),
    "hotline complaints": Filters(channel="hotline", kind="complaint"),
    "township": Filters(township="town-3"),
    "village-wide in a village": Filters(village="town-3-village-7", scope_level="village"),
}


@dataclass
class Timing:
    period: str
    filters: str
    ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.ms)

    @property
    def worst(self) -> float:
        return max(self.ms)


def time_figures(url: str, repeats: int) -> list[Timing]:
    """Each period under each filter, `repeats` times, as the API computes them."""
    settings = load_settings({"MINQING_REPORTING_DATABASE_URL": _sqlalchemy(url)})
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    timings = [Timing(p, f) for p in periods() for f in FILTERS]
    try:
        # Round after round, so a busy moment of the machine spreads over every query.
        for _ in range(repeats):
            for timing in timings:
                with runtime.work() as work:
                    started = time.perf_counter()
                    figures(work.session, periods()[timing.period], FILTERS[timing.filters])
                    timing.ms.append((time.perf_counter() - started) * 1000)
    finally:
        runtime.database.dispose()
    return timings


def _sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def scratch_database(postgres_url: str, service: str) -> Iterator[str]:
    """A database of the bench's own, dropped at the end whatever happens."""
    name = f"mqbench_{uuid.uuid4().hex[:10]}_{service}"
    with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield f"{postgres_url}/{name}"
    finally:
        with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def case_events(cases: int) -> list[Envelope]:
    """Each case's life as the producers publish it: submitted, assigned, signed for,
    resolved, rated and closed, with the receipt, dispatch notice and reply sent and delivered;
    twelve events a case, steps hours apart, the cases spread over the last weeks."""
    envelopes: list[Envelope] = []
    rng = random.Random(2026)
    start = datetime.now(UTC) - timedelta(days=30)
    for n in range(cases):
        case_id, order_id = uuid.uuid4(), uuid.uuid4()
        tracking_no = f"BENCH-{n:08d}"
        department = f"dept-{rng.randrange(25)}"
        moment = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
        steps: list[tuple[Event, timedelta]] = [
            (
                CaseSubmitted(
                    case_id=case_id,
                    tracking_no=tracking_no,
                    access_code="ABC234",
                    channel=rng.choice(("hotline", "web", "email", "visit")),
                    kind=rng.choice(("complaint", "help", "suggestion")),
                    category=f"cat-{rng.randrange(40)}",
                    description="路灯坏了",
                    location=Location(address=f"清河县城关镇东街{rng.randrange(20)}村"),
                    contact=Contact(phone="13700000000"),
                    scope_level=rng.choice(("individual", "family", "village")),
                    submitted_at=moment,
                    promised_date=(moment + timedelta(days=15)).date(),
                ),
                timedelta(0),
            ),
            (
                CaseAssigned(
                    case_id=case_id,
                    tracking_no=tracking_no,
                    work_order_id=order_id,
                    department_code=department,
                    department_name=department,
                    deadline=(moment + timedelta(days=15)).date(),
                    matched_by="rules",
                    kind="complaint",
                    category=None,
                    description="路灯坏了",
                    address=None,
                ),
                timedelta(minutes=5),
            ),
            (_moved(CaseAccepted, case_id, tracking_no, order_id, moment), timedelta(hours=2)),
            (
                CaseResolved(
                    case_id=case_id,
                    tracking_no=tracking_no,
                    work_order_id=order_id,
                    department_code=department,
                    department_name=department,
                    reply="已修复",
                    resolved_at=moment + timedelta(days=3),
                ),
                timedelta(days=3),
            ),
            (
                CaseRated(
                    case_id=case_id,
                    tracking_no=tracking_no,
                    channel="sms",
                    rating="satisfied",
                    comment=None,
                    department_code=None,
                    rated_at=moment + timedelta(days=4),
                ),
                timedelta(days=4),
            ),
            (
                _moved(CaseClosed, case_id, tracking_no, order_id, moment + timedelta(days=5)),
                timedelta(days=5),
            ),
        ]
        for sent_after in (timedelta(minutes=1), timedelta(minutes=6), timedelta(days=3)):
            steps += _message(case_id, tracking_no, moment + sent_after, sent_after)
        envelopes += [
            event.envelope(producer="bench", case_id=case_id).model_copy(
                update={"occurred_at": moment + after}
            )
            for event, after in steps
        ]
    return envelopes


def _moved(
    kind: type[WorkOrderMoved],
    case_id: uuid.UUID,
    tracking_no: str,
    order_id: uuid.UUID,
    moment: datetime,
) -> WorkOrderMoved:
    return kind(
        case_id=case_id,
        tracking_no=tracking_no,
        work_order_id=order_id,
        department_code=None,
        order_role="lead",
        action="bench",
        from_status="a",
        to_status="b",
        actor_role="handler",
        reason=None,
        occurred_at=moment,
    )


def _message(
    case_id: uuid.UUID, tracking_no: str, sent_at: datetime, after: timedelta
) -> list[tuple[Event, timedelta]]:
    facts = {
        "message_id": uuid.uuid4(),
        "case_id": case_id,
        "tracking_no": tracking_no,
        "template": "case_update",
        "channel": "sms",
    }
    delivered_at = sent_at + timedelta(seconds=20)
    return [
        (MessageSent(**facts, segments=1), after),
        (MessageDelivered(**facts, delivered_at=delivered_at), after + timedelta(seconds=20)),
    ]


def processed(url: str) -> int:
    """Events reporting's handlers have applied so far."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            b"SELECT count(*) FROM processed_events WHERE handler LIKE 'reporting.%%'"
        ).fetchone()
    return row[0] if row else 0


def wait_for_events(url: str, total: int, timeout: float) -> float:
    """Seconds until reporting has applied `total` events, from now."""
    started = time.perf_counter()
    while processed(url) < total:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"only {processed(url)} of {total} events applied in {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def measure_projection(url: str, amqp_url: str, events: list[Envelope]) -> float:
    """Events/s reporting's own consumers apply `events` at, all waiting on their queues: from
    the moment the consumers are ready to the moment the last event is applied."""
    settings = _settings(url, amqp_url)
    declare_topology(Bus(settings.broker_url), [reporting.SERVICE])
    publish_envelopes(settings.broker_url, events)
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    total = processed(url) + len(events)
    runtime.start()
    try:
        if not runtime.wait_ready():
            raise RuntimeError("reporting's consumers did not start")
        ready = processed(url)
        took = wait_for_events(url, total, timeout=600)
    finally:
        runtime.stop_consuming()
        runtime.stop()
    return (total - ready) / took


def _settings(url: str, amqp_url: str) -> Settings:
    return load_settings(
        {
            "MINQING_REPORTING_DATABASE_URL": _sqlalchemy(url),
            "MINQING_BROKER_URL": amqp_url,
            "MINQING_SECRET_KEY": TEST_SECRET,
            "MINQING_LOG_LEVEL": "WARNING",
        }
    )


def seed_outbox(url: str, events: Sequence[Envelope]) -> None:
    """A producer's retained events, as its relay leaves them once published."""
    upgrade("intake", intake.SERVICE.migrations, _sqlalchemy(url))
    database = Database(_sqlalchemy(url), pool_size=1)
    published = datetime.now(UTC)
    try:
        with database.unit_of_work() as uow:
            for chunk in range(0, len(events), 5000):
                rows = [
                    row | {"published_at": published}
                    for envelope in events[chunk : chunk + 5000]
                    for row in outbox_rows(
                        envelope, [Destination(EVENTS_EXCHANGE, envelope.routing_key)]
                    )
                ]
                uow.session.execute(outbox.insert(), rows)
    finally:
        database.dispose()


@dataclass(frozen=True)
class Rebuild:
    events: int
    clear_s: float
    replay_s: float

    @property
    def million_s(self) -> float:
        """A rebuild from a million events: emptying once, replaying at the rate measured."""
        return self.clear_s + self.replay_s * REBUILD_SCALE / self.events


def measure_rebuild(url: str, producer_url: str, amqp_url: str, events: int) -> Rebuild:
    """Empty the projections, then time `rebuild()` replaying `events` from intake's outbox
    through reporting's running consumers until every one is applied."""
    seed_outbox(producer_url, case_events(-(-events // 12))[:events])
    settings = _settings(url, amqp_url)
    runtime = ServiceRuntime(reporting.SERVICE, settings)
    producer = Database(_sqlalchemy(producer_url), pool_size=1)
    runtime.start()
    try:
        started = time.perf_counter()
        clear(runtime.database)
        cleared = time.perf_counter()
        replayed = rebuild(runtime.database, Bus(settings.broker_url), {"intake": producer})
        wait_for_events(url, replayed.total, timeout=3600)
        return Rebuild(replayed.total, cleared - started, time.perf_counter() - cleared)
    finally:
        runtime.stop_consuming()
        runtime.stop()
        producer.dispose()


def say(line: str) -> None:
    print(line, flush=True)


def run(args: argparse.Namespace, stack: ExitStack) -> None:
    """Every measurement, each reported as soon as it is made."""
    url = stack.enter_context(scratch_database(args.postgres_url, "reporting"))
    upgrade("reporting", reporting.SERVICE.migrations, _sqlalchemy(url))
    messages, took = load_facts(url, args.cases)
    say(f"loaded {args.cases:,} cases and {messages:,} messages in {took:.0f} s")
    timings = time_figures(url, args.repeats)
    say(f"figures, {args.repeats} runs each (p50 / max ms, target {TARGET_MS:.0f} ms):")
    for timing in timings:
        verdict = "PASS" if timing.worst <= TARGET_MS else "MISS"
        say(
            f"  {timing.period:<15} {timing.filters:<26} {timing.p50:7.0f} {timing.worst:7.0f}"
            f"  {verdict}"
        )
    every = sorted(ms for timing in timings for ms in timing.ms)
    amqp_url = stack.enter_context(e2e.rabbitmq_vhost(args.amqp_url))
    rate = measure_projection(url, amqp_url, case_events(-(-args.events // 12))[: args.events])
    verdict = "PASS" if rate >= TARGET_EVENTS_PER_S else "MISS"
    say(
        f"projection: {args.events:,} events through reporting's consumers, {rate:,.0f} events/s "
        f"(target {TARGET_EVENTS_PER_S:,.0f})  {verdict}"
    )
    rebuild_s = "not-run"
    if args.rebuild_events:
        producer_url = stack.enter_context(scratch_database(args.postgres_url, "intake"))
        rebuilt = measure_rebuild(url, producer_url, amqp_url, args.rebuild_events)
        estimate = "" if rebuilt.events >= REBUILD_SCALE else " (extrapolated)"
        verdict = "PASS" if rebuilt.million_s <= TARGET_REBUILD_S else "MISS"
        say(
            f"rebuild: emptied {args.cases:,} cases in {rebuilt.clear_s:.1f} s, replayed "
            f"{rebuilt.events:,} events in {rebuilt.replay_s:.1f} s; a million events "
            f"{rebuilt.million_s:.0f} s{estimate} (target {TARGET_REBUILD_S:.0f} s)  {verdict}"
        )
        rebuild_s = f"{rebuilt.million_s:.0f}"
    say(
        f"kpi_p50_ms={statistics.median(every):.0f} "
        f"kpi_p99_ms={every[min(len(every) - 1, int(0.99 * len(every)))]:.0f} "
        f"kpi_max_ms={every[-1]:.0f} kpi_pass={sum(t.worst <= TARGET_MS for t in timings)}"
        f"/{len(timings)} projection_events_per_s={rate:.0f} rebuild_seconds={rebuild_s}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--cases", type=int, default=1_000_000)
    options.add_argument("--repeats", type=int, default=3, help="runs of each figure query")
    options.add_argument("--events", type=int, default=20_000, help="events to project")
    options.add_argument(
        "--rebuild-events",
        type=int,
        default=0,
        help="also time a rebuild replaying this many events (0: skip); under a million, "
        "the million-event time is extrapolated",
    )
    options.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    options.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672")
    return options.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with ExitStack() as stack:
        run(args, stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
