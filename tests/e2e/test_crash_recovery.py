"""kill -9 in the middle of the flow: every accepted case is still routed, notified and counted,
each exactly once, once the killed process is back ("No loss" in the design)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    Cluster,
    MinqingProcess,
    base_env,
    case_payload,
    free_port,
    running_services,
)

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "routing", "notify", "reporting")
TEMPLATES = ("case_received", "case_dispatched")
SCHOOL = "学校门口的校车每天超载，孩子们很危险"
HOUSING = "小区楼下的排水沟堵了半个月，一下雨就漫进一楼"


# --- processes -----------------------------------------------------------------------------


@pytest.fixture
def serve_cluster(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """The four `minqing serve` processes on this test's RabbitMQ vhost and PostgreSQL DBs."""
    with running_services(SERVICES, postgres_url, amqp_url, tmp_path) as cluster:
        yield cluster


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Cluster]:
    """`minqing up`: everything in one process, in-memory broker, SQLite under the data dir."""
    port = free_port()
    data_dir = tmp_path / "data"
    process = MinqingProcess(
        ["up", "--port", str(port), "--data-dir", str(data_dir)],
        base_env(),
        port,
        tmp_path / "up.log",
    )
    cluster = Cluster({"up": process})
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


# --- submissions ---------------------------------------------------------------------------


def _payload(index: int) -> dict[str, Any]:
    """Half school cases (to edu by keywords), half housing (by category): all auto-routed."""
    if index % 2 == 0:
        return case_payload(f"{SCHOOL}（第{index}件）")
    return case_payload(f"{HOUSING}（第{index}件）", category="城乡建设")


def _expected_department(index: int) -> str:
    return "edu" if index % 2 == 0 else "housing"


@dataclass
class Submitter:
    """Posts `total` cases from a thread at a steady `rate`, whatever happens to the server.

    A request that never reached the server (connection refused) is retried until
    `give_up` seconds have passed: it cannot have created a case. A request that was cut
    off in flight may or may not have been committed; it is counted as ambiguous.
    """

    url: str
    total: int
    rate: float
    first: int = 0  # the index of its first submission, so that several number theirs apart
    give_up: float = 90.0
    started: int = 0
    accepted: dict[str, tuple[str, int]] = field(default_factory=dict)  # tracking_no -> (code, i)
    ambiguous: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def together(cls, submitters: list[Submitter]) -> Submitter:
        """What several submitters (one after another) got, as if one had submitted it all."""
        merged = cls(submitters[0].url, sum(s.total for s in submitters), submitters[0].rate)
        for submitter in submitters:
            merged.started += submitter.started
            merged.accepted.update(submitter.accepted)
            merged.ambiguous += submitter.ambiguous
            merged.rejected += submitter.rejected
        return merged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="submitter", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"submitter still running after {timeout}s ({self.started})")
        if self.error is not None:
            raise AssertionError(f"submitter failed: {self.error!r}")

    @property
    def finished(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
                began = time.monotonic()
                for offset in range(self.total):
                    pause = began + offset / self.rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    self.started = offset + 1
                    self._submit(client, self.first + offset)
        except BaseException as exc:
            self.error = exc

    def _submit(self, client: httpx.Client, index: int) -> None:
        give_up = time.monotonic() + self.give_up
        while True:
            try:
                response = client.post(f"{self.url}/api/v1/cases", json=_payload(index))
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if time.monotonic() > give_up:
                    self.rejected.append(f"#{index}: never connected: {exc!r}")
                    return
                time.sleep(0.05)
                continue
            except httpx.TransportError as exc:
                self.ambiguous.append(f"#{index}: {exc!r}")
                return
            if response.status_code == 201:
                body = response.json()
                self.accepted[body["tracking_no"]] = (body["access_code"], index)
            else:
                self.rejected.append(f"#{index}: {response.status_code} {response.text[:300]}")
            return


# --- what must hold at the end -------------------------------------------------------------


def _read_sms(path: Path, *, final: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The gateway's lines, and the ones that are not JSON (a torn write). While polling, a
    last line without its newline may still be being written and is left for later."""
    if not path.exists():
        return [], []
    raw = path.read_text(encoding="utf-8", errors="replace")
    lines = raw.split("\n")
    if not final:
        lines = lines[:-1]
    parsed, torn = [], []
    for line in lines:
        if not line:
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            torn.append(line)
    return parsed, torn


@dataclass
class State:
    sms_counts: Counter[tuple[str, str]]
    torn_lines: list[str]
    summary: dict[str, Any] | None
    missing: dict[str, list[str]]
    extra_numbers: set[str]

    def describe(self) -> str:
        duplicates = {k: v for k, v in self.sms_counts.items() if v > 1}
        missing = {t: (len(v), v[:5]) for t, v in self.missing.items()}
        return (
            f"missing SMS (count, first few): {missing}; duplicated SMS: {duplicates}; "
            f"SMS for numbers never accepted: {sorted(self.extra_numbers)[:10]} "
            f"({len(self.extra_numbers)}); torn lines: {self.torn_lines[:3]}; "
            f"summary: {self.summary}"
        )


def _observe(
    client: httpx.Client,
    sms_path: Path,
    reporting_url: str,
    accepted: set[str],
    *,
    final: bool = False,
) -> State:
    lines, torn = _read_sms(sms_path, final=final)
    counts: Counter[tuple[str, str]] = Counter(
        (str(line.get("tracking_no")), str(line.get("template"))) for line in lines
    )
    missing = {t: sorted(n for n in accepted if counts[(n, t)] == 0) for t in TEMPLATES}
    numbers = {number for number, _ in counts}
    try:
        response = client.get(f"{reporting_url}/api/v1/reports/summary")
        summary = response.json() if response.status_code == 200 else None
    except httpx.HTTPError:
        summary = None
    return State(counts, torn, summary, missing, numbers - accepted)


def _citizen_statuses(client: httpx.Client, intake_url: str, submitter: Submitter) -> Counter[str]:
    statuses: Counter[str] = Counter()
    for number, (code, _) in submitter.accepted.items():
        response = client.get(f"{intake_url}/api/v1/cases/{number}", params={"access_code": code})
        statuses[
            response.json()["status"]
            if response.status_code == 200
            else f"http-{response.status_code}"
        ] += 1
    return statuses


def _await_exactly_once(
    *,
    intake_url: str,
    reporting_url: str,
    sms_path: Path,
    submitter: Submitter,
    timeout: float,
    logs: Callable[[], str],
) -> float:
    """Poll until every accepted case is notified, counted and shown as dispatched; fail at once
    on any duplicate. Cases cut off in flight (ambiguous) may exist too, but at most that many,
    and they also must be handled exactly once. Returns the seconds waited."""
    accepted = set(submitter.accepted)
    slack = len(submitter.ambiguous)
    expected_departments = Counter(_expected_department(i) for _, i in submitter.accepted.values())
    began = time.monotonic()
    deadline = began + timeout
    state: State | None = None
    statuses: Counter[str] = Counter()

    def fail(reason: str) -> AssertionError:
        return AssertionError(
            f"{reason}\naccepted={len(accepted)} ambiguous={submitter.ambiguous} "
            f"rejected={submitter.rejected[:5]}\n"
            f"{state.describe() if state else ''}\ncitizen views: {dict(statuses)}\n{logs()}"
        )

    def counted(summary: dict[str, Any] | None, extra: int) -> bool:
        if summary is None:
            return False
        total = len(accepted) + extra
        return summary["total"] == total and summary["by_status"] == {"dispatched": total}

    with httpx.Client(timeout=30) as client:
        while True:
            state = _observe(client, sms_path, reporting_url, accepted)
            if any(count > 1 for count in state.sms_counts.values()):
                raise fail("an SMS was sent twice")
            if len(state.extra_numbers) > slack:
                raise fail("SMS for more cases than were submitted")
            extra = len(state.extra_numbers)
            # Every case that exists (accepted or cut off in flight) gets both messages.
            complete = not any(state.missing.values()) and all(
                state.sms_counts[(n, t)] == 1 for n in state.extra_numbers for t in TEMPLATES
            )
            if complete and counted(state.summary, extra):
                statuses = _citizen_statuses(client, intake_url, submitter)
                if statuses == Counter({"dispatched": len(accepted)}):
                    break
            if time.monotonic() > deadline:
                raise fail(f"not every accepted case was handled within {timeout}s")
            time.sleep(0.5)
        waited = time.monotonic() - began
        # Looked at once more, with a little time passed: nothing arrived twice meanwhile.
        state = _observe(client, sms_path, reporting_url, accepted, final=True)
    if state.torn_lines:
        raise fail("the SMS outbox has lines that are not JSON")
    if any(count != 1 for count in state.sms_counts.values()):
        raise fail("an SMS was sent twice")
    extra = len(state.extra_numbers)
    if not counted(state.summary, extra):
        raise fail("reporting's count changed after it was complete")
    assert state.summary is not None
    by_department = state.summary["by_department"]
    if sum(by_department.values()) != len(accepted) + extra:
        raise fail("by_department does not add up to the total")
    if extra == 0 and by_department != dict(expected_departments):
        raise fail(f"by_department should be {dict(expected_departments)}")
    return waited


# --- the tests -----------------------------------------------------------------------------

TOTAL = 120
RATE = 100.0


def test_kill_9_each_service_in_turn_while_submissions_flow(
    serve_cluster: Cluster, tmp_path: Path
) -> None:
    # One cluster for the four kills, so that the services start once: each kill has its own
    # round of submissions, and everything is checked together at the end.
    rounds: list[Submitter] = []
    for victim in ("routing", "notify", "reporting", "intake"):
        rounds.append(_kill_during_a_round(serve_cluster, victim, first=len(rounds) * TOTAL))
    waited = _await_exactly_once(
        intake_url=serve_cluster.url("intake"),
        reporting_url=serve_cluster.url("reporting"),
        sms_path=tmp_path / "sms-outbox.jsonl",
        submitter=Submitter.together(rounds),
        timeout=90,
        logs=serve_cluster.logs,
    )
    print(f"all handled {waited:.1f}s after the last submission")


def _kill_during_a_round(cluster: Cluster, victim: str, first: int) -> Submitter:
    """A round of submissions with `victim` killed a third of the way through and restarted."""
    submitter = Submitter(cluster.url("intake"), total=TOTAL, rate=RATE, first=first)
    submitter.start()
    try:
        _wait_for(lambda: submitter.started >= TOTAL // 3 or submitter.finished, 120)
    except AssertionError:
        raise AssertionError(f"submissions did not flow: {submitter}\n{cluster.logs()}") from None
    killed_at = submitter.started
    cluster.processes[victim].kill()
    time.sleep(1.0)  # down for a moment, as a crashed process under a supervisor would be
    cluster.restart(victim)
    submitter.join(180)

    if victim != "intake":
        # Intake stayed up: every submission must have been taken.
        assert len(submitter.accepted) == TOTAL, (
            f"{victim}: {len(submitter.accepted)} accepted; ambiguous={submitter.ambiguous[:5]} "
            f"rejected={submitter.rejected[:5]}\n{cluster.logs()}"
        )
    else:
        assert not submitter.rejected, f"{submitter.rejected[:5]}\n{cluster.logs()}"
        # The ones cut off by the kill are at most the few in flight.
        assert len(submitter.ambiguous) <= 3, f"{submitter.ambiguous}\n{cluster.logs()}"
        assert len(submitter.accepted) + len(submitter.ambiguous) == TOTAL
    print(
        f"{victim} killed after {killed_at} submissions of its round "
        f"({len(submitter.accepted)} accepted, {len(submitter.ambiguous)} cut off)"
    )
    return submitter


def test_kill_9_embedded_while_submissions_flow(embedded: Cluster, tmp_path: Path) -> None:
    up = embedded.processes["up"]
    total = 50
    submitter = Submitter(up.url, total=total, rate=50.0)
    submitter.start()
    try:
        _wait_for(lambda: submitter.started >= total // 3 or submitter.finished, 60)
    except AssertionError:
        raise AssertionError(f"submissions did not flow: {submitter}\n{embedded.logs()}") from None
    killed_at = submitter.started
    up.kill()
    time.sleep(0.5)
    embedded.restart("up")
    submitter.join(180)
    assert not submitter.rejected, f"{submitter.rejected[:5]}\n{embedded.logs()}"
    assert len(submitter.ambiguous) <= 3, f"{submitter.ambiguous}\n{embedded.logs()}"
    assert len(submitter.accepted) + len(submitter.ambiguous) == total

    # The Celery queue died with the process: notify re-queues what is stuck after ~30-45 s.
    waited = _await_exactly_once(
        intake_url=up.url,
        reporting_url=up.url,
        sms_path=tmp_path / "data" / "sms-outbox.jsonl",
        submitter=submitter,
        timeout=120,
        logs=embedded.logs,
    )
    print(
        f"embedded killed after {killed_at} submissions ({len(submitter.accepted)} accepted, "
        f"{len(submitter.ambiguous)} cut off); all handled {waited:.1f}s after the last one"
    )


def _wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.01)
