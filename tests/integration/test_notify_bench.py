"""`minqing bench notify` still runs end to end: a tiny run, so the benchmark cannot rot."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest

from tests.support import AMQP_URL, MINQING, POSTGRES_URL, REPO, unavailable

pytestmark = pytest.mark.integration

MACHINE_LINE = re.compile(
    r"^file_messages_per_s=(\S+) smpp_messages_per_s=(\S+) event_to_gateway_p99_ms=(\S+)$"
)


@pytest.mark.timeout(180)
def test_a_tiny_notify_bench_measures_every_figure() -> None:
    if shutil.which("rabbitmqctl") is None:
        unavailable("rabbitmqctl is not on PATH (the bench makes a vhost of its own)")
    tiny = ["--events", "20", "--warm-up", "5", "--rate", "20", "--seconds", "1"]
    servers = ["--amqp-url", AMQP_URL, "--postgres-url", POSTGRES_URL]
    run = subprocess.run(
        [*MINQING, "bench", "notify", *tiny, "--drain-timeout", "30", *servers],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    found = MACHINE_LINE.match(run.stdout.strip().splitlines()[-1])
    assert found, run.stdout
    file_rate, smpp_rate, p99 = (float(value) for value in found.groups())
    assert all(math.isfinite(v) and v > 0 for v in (file_rate, smpp_rate, p99))
