"""The email intake benchmark: messages over SMTP into intake, parsed and committed.

`minqing bench email [--messages N] [--connections C] [--embedded] [--keep]` starts
`minqing serve intake` on a RabbitMQ vhost and PostgreSQL databases of its own (or, with
`--embedded`, `minqing up` on SQLite), sends N distinct citizens' messages to its SMTP receiver
over C connections at once, and measures how many messages a second it takes in. The receiver
answers 250 only once a message is parsed and its case committed, so the time to the last 250
is the time to record them all; the counts in intake's database are checked afterwards. The last
line printed is machine-readable:
`email_messages_per_s=… email_p50_ms=… email_p99_ms=… parse_per_s=… intake_cpu_ms_per_message=…`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on the path and this file would shadow the standard
# library's `email` package for every module that imports it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import smtplib  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.policy import SMTP  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

REPO = _HERE.parent
TARGET_MESSAGES_PER_S = 200.0
MAILBOX = "12345@county.gov.cn"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
# Complaints as citizens write them: a few lines, sometimes a photo.
TEXTS = (
    "学校门口的校车每天超载，孩子们很危险，请有关部门尽快处理。",
    "公司拖欠工资三个月了，劳动合同也不给签，希望劳动监察部门帮忙。",
    "小区物业不作为，路灯坏了半年没人修，晚上老人孩子出门很不安全。",
    "化工厂夜里偷排废水，河边一股异味，村民反映多次没有结果。",
    "镇卫生院看病排队太久，医生态度也差，建议增加挂号窗口。",
)


def _load_e2e() -> ModuleType:
    """The end-to-end benchmark's helpers (vhost, databases, processes), loaded by path."""
    spec = importlib.util.spec_from_file_location("minqing_bench_e2e", _HERE / "e2e.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


e2e = _load_e2e()
log = e2e.log
BenchError = e2e.BenchError


def messages(count: int) -> list[bytes]:
    """`count` distinct messages from distinct citizens; one in ten carries a photo."""
    corpus = []
    for i in range(count):
        message = EmailMessage(policy=SMTP)
        message["From"] = f"市民{i} <citizen{i}@example.com>"
        message["To"] = MAILBOX
        message["Subject"] = f"反映问题第{i}号"
        message["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.com>"
        text = TEXTS[i % len(TEXTS)]
        message.set_content(f"{text}\n\n联系电话：138{i % 100_000_000:08d}\n")
        if i % 10 == 0:
            message.add_attachment(PNG, maintype="image", subtype="png", filename="现场.png")
        corpus.append(message.as_bytes())
    return corpus


def send_share(port: int, share: Sequence[bytes]) -> list[float]:
    """Send messages one after another on one connection; each one's time to its 250, in ms."""
    latencies = []
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo()
        for index, raw in enumerate(share):
            started = time.perf_counter()
            smtp.mail(f"citizen{index}@example.com")
            smtp.rcpt(MAILBOX)
            code, answer = smtp.data(raw)
            if code != 250 or not answer.endswith(b"case"):
                raise BenchError(f"a message was answered {code} {answer!r}")
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def parse_rate(corpus: Sequence[bytes]) -> float:
    """Messages a second the parser alone reads, in this process."""
    from services.intake.channels.email.parsing import parse_email

    started = time.perf_counter()
    for raw in corpus:
        parse_email(raw)
    return len(corpus) / (time.perf_counter() - started)


@contextmanager
def production_intake(args: argparse.Namespace, work: Path, smtp_port: int) -> Iterator[Any]:
    with ExitStack() as stack:
        amqp = stack.enter_context(e2e.rabbitmq_vhost(args.amqp_url))
        database = stack.enter_context(e2e.postgres_databases(args.postgres_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
        env.update(
            MINQING_BROKER_URL=amqp,
            MINQING_DATABASE_URL=database,
            MINQING_DATA_DIR=str(work / "data"),
            MINQING_SECRET_KEY="bench-" + uuid.uuid4().hex * 2,
            MINQING_SMTP_PORT=str(smtp_port),
            MINQING_MAIL_ADDRESS=MAILBOX,
            MINQING_LOG_LEVEL=args.log_level,
        )
        intake = e2e.ServiceProcess("intake", env, work)
        intake.start()
        _wait_ready(intake)
        try:
            yield intake, lambda: _count_postgres(database.format(service="intake"))
        finally:
            intake.terminate()
            intake.wait(e2e.STOP_TIMEOUT)


class EmbeddedProcess(e2e.ServiceProcess):  # type: ignore[misc,name-defined]
    """`minqing up` on SQLite in the work directory, watched like a served service."""

    def start(self) -> None:
        command = [sys.executable, "-m", "services", "up", "--port", str(self.port)]
        command += ["--data-dir", str(self.log_path.parent / "var")]
        with self.log_path.open("ab") as output:
            self._process = subprocess.Popen(
                command, cwd=REPO, env=self._env, stdout=output, stderr=subprocess.STDOUT
            )


@contextmanager
def embedded_intake(args: argparse.Namespace, work: Path, smtp_port: int) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}
    env.update(
        MINQING_SMTP_PORT=str(smtp_port),
        MINQING_MAIL_ADDRESS=MAILBOX,
        MINQING_LOG_LEVEL=args.log_level,
        MINQING_RATE_LIMIT_PER_PHONE="off",
    )
    process = EmbeddedProcess("up", env, work)
    process.start()
    _wait_ready(process)
    try:
        yield process, lambda: _count_sqlite(work / "var" / "intake.db")
    finally:
        process.terminate()
        process.wait(e2e.STOP_TIMEOUT)


def _wait_ready(process: Any) -> None:
    deadline = time.monotonic() + e2e.READY_TIMEOUT
    while not process.is_ready():
        if time.monotonic() > deadline:
            raise BenchError(f"intake not ready:\n{process.log_tail()}")
        time.sleep(0.2)


def _count_postgres(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM email_messages WHERE outcome = 'case'"
        ).fetchone()
    return int(row[0]) if row else 0


def _count_sqlite(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT count(*) FROM email_messages WHERE outcome = 'case'"
        ).fetchone()
    return int(row[0]) if row else 0


def run(args: argparse.Namespace) -> dict[str, float]:
    corpus = messages(args.messages)
    log(f"built {len(corpus)} messages, {sum(map(len, corpus)) // 1024} KiB in all")
    parse_per_s = parse_rate(corpus)
    smtp_port = e2e.free_port()
    start = embedded_intake if args.embedded else production_intake
    with e2e.work_directory(args.keep) as work, start(args, work, smtp_port) as (intake, count):
        # A short warm-up on messages of its own, so start-up costs stay out of the figures.
        send_share(smtp_port, messages(20))
        shares = [corpus[i :: args.connections] for i in range(args.connections)]
        log(f"sending {len(corpus)} messages over {args.connections} connections")
        cpu_before = e2e.cpu_seconds(intake.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.connections) as pool:
            latencies = [
                ms for share in pool.map(lambda s: send_share(smtp_port, s), shares) for ms in share
            ]
        elapsed = time.perf_counter() - started
        cpu = e2e.cpu_seconds(intake.pid) - cpu_before
        recorded = count() - 20
        if recorded != len(corpus):
            raise BenchError(f"{len(corpus)} messages answered 250 but {recorded} cases recorded")
    return {
        "email_messages_per_s": len(corpus) / elapsed,
        "email_p50_ms": e2e.percentile(latencies, 50),
        "email_p99_ms": e2e.percentile(latencies, 99),
        "parse_per_s": parse_per_s,
        "intake_cpu_ms_per_message": cpu * 1000 / len(corpus),
        "messages": float(len(corpus)),
        "connections": float(args.connections),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="minqing bench email", description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="how many messages to send")
    parser.add_argument("--connections", type=int, default=8, help="SMTP connections at once")
    parser.add_argument("--embedded", action="store_true", help="`minqing up` on SQLite instead")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument("--log-level", default="WARNING", help="intake's MINQING_LOG_LEVEL")
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("MINQING_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MINQING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.connections < 1:
        parser.error("--messages and --connections must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        figures = run(args)
    except BenchError as exc:
        log(f"failed: {exc}")
        return 1
    mode = "minqing up (SQLite)" if args.embedded else "minqing serve intake (RabbitMQ, PostgreSQL)"
    met = figures["email_messages_per_s"] >= TARGET_MESSAGES_PER_S
    print(f"email intake through SMTP, {mode}")
    print(
        f"  {figures['messages']:.0f} messages over {figures['connections']:.0f} connections: "
        f"{figures['email_messages_per_s']:.0f} messages/s parsed and committed "
        f"(target {TARGET_MESSAGES_PER_S:.0f}: {'met' if met else 'MISSED'})"
    )
    print(
        f"  per message: p50 {figures['email_p50_ms']:.1f} ms, "
        f"p99 {figures['email_p99_ms']:.1f} ms "
        f"to its 250; intake CPU {figures['intake_cpu_ms_per_message']:.2f} ms"
    )
    print(f"  the parser alone: {figures['parse_per_s']:.0f} messages/s on one core")
    whole = ("messages", "connections")
    pairs = [f"{k}={v:.0f}" if k in whole else f"{k}={v:.2f}" for k, v in figures.items()]
    print(" ".join([*pairs, f"target_messages_per_s={TARGET_MESSAGES_PER_S:.0f}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
