"""The rules of `serve --http-workers`: who asks for workers, and when to stop restarting them."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

from services.__main__ import main
from services.kernel import workers
from services.kernel.config import ConfigError, load_settings
from services.kernel.workers import (
    MAX_FAST_FAILURES,
    HttpWorkers,
    fast_failures_after,
    next_backoff,
    requested_workers,
    share_metrics_between_workers,
)


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["serve", "intake"], {}, 1),
        (["serve", "intake", "--http-workers", "3"], {}, 3),
        (["serve", "intake", "--http-workers=2"], {}, 2),
        (["serve", "intake"], {"MINQING_HTTP_WORKERS": "2"}, 2),
        (["serve", "intake", "--http-workers", "1"], {"MINQING_HTTP_WORKERS": "4"}, 1),
        (["serve", "intake", "--http-workers", "two"], {}, 1),
        (["up"], {"MINQING_HTTP_WORKERS": "2"}, 1),
        (["migrate"], {}, 1),
    ],
)
def test_requested_workers_reads_the_flag_then_the_environment(
    argv: list[str], environ: dict[str, str], expected: int
) -> None:
    assert requested_workers(argv, environ) == expected


def test_only_a_multi_worker_serve_gets_a_metrics_directory() -> None:
    single: dict[str, str] = {}
    share_metrics_between_workers(["serve", "intake"], single)
    assert "PROMETHEUS_MULTIPROC_DIR" not in single

    several: dict[str, str] = {}
    share_metrics_between_workers(["serve", "intake", "--http-workers", "2"], several)
    directory = Path(several["PROMETHEUS_MULTIPROC_DIR"])
    try:
        assert directory.is_dir()
        assert list(directory.iterdir()) == []
    finally:
        directory.rmdir()


def test_http_workers_setting_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    assert load_settings({"MINQING_DATA_DIR": str(tmp_path)}).http_workers == 1
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_HTTP_WORKERS": "3"})
    assert settings.http_workers == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigError, match="MINQING_HTTP_WORKERS"):
            load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_HTTP_WORKERS": bad})


def test_the_command_refuses_a_worker_count_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["serve", "intake", "--http-workers", "0"])
    assert refused.value.code == 2
    assert "--http-workers: not a positive whole number: '0'" in capsys.readouterr().err


def test_quick_deaths_back_off_and_a_long_life_resets_the_count() -> None:
    assert fast_failures_after(0, lived=1.0) == 1
    assert fast_failures_after(3, lived=2.0) == 4
    assert fast_failures_after(3, lived=600.0) == 0
    assert next_backoff(0) == 0.0
    assert [next_backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert next_backoff(10) == workers.MAX_BACKOFF_SECONDS


def test_the_supervisor_gives_up_on_children_that_keep_dying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Children that exit at once, restarted without waiting: the give-up comes in a moment.
    monkeypatch.setattr(sys, "executable", "/bin/false")
    monkeypatch.setattr(workers, "next_backoff", lambda _: 0.0)
    gave_up = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        supervisor = HttpWorkers("intake", listener, 2)
        supervisor.start(on_give_up=gave_up.set)
        assert gave_up.wait(10)
        supervisor.stop()
        supervisor.wait(5)
    assert supervisor.gave_up is not None
    assert f"died {MAX_FAST_FAILURES} times in a row" in supervisor.gave_up
    assert supervisor.pids() == []


def test_a_second_server_on_the_same_port_fails_loudly() -> None:
    # No SO_REUSEPORT: only the children of one `serve` share a port, never two servers.
    with workers.listen("127.0.0.1", 0) as first:
        port = first.getsockname()[1]
        with pytest.raises(SystemExit, match=f"cannot listen on 127.0.0.1:{port}"):
            workers.listen("127.0.0.1", port)
