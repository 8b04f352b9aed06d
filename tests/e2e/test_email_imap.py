"""`minqing serve intake` polling a real Dovecot mailbox, killed with -9 in the middle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from services.intake.channels.email.imap import TAKEN
from services.intake.models import Case, EmailMessage
from tests.dovecot import Dovecot, dovecot_server
from tests.mails import COUNTY, mail
from tests.support import MinqingProcess, base_env, free_port, wait_until

pytestmark = pytest.mark.e2e

MESSAGES = 60


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def intake_db(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(
        postgres_url.format(service="intake").replace("postgresql://", "postgresql+psycopg://")
    )
    yield engine
    engine.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        cases = connection.scalar(select(func.count()).select_from(Case.__table__)) or 0
        kept = connection.scalar(select(func.count()).select_from(EmailMessage.__table__)) or 0
    return cases, kept


def recorded_so_far(engine: Engine) -> int:
    try:
        return counts(engine)[1]
    except Exception:
        return 0  # the table is not there until intake has migrated


def test_a_poller_killed_between_recording_and_marking_loses_and_repeats_nothing(
    postgres_url: str, amqp_url: str, tmp_path: Path, dovecot: Dovecot, intake_db: Engine
) -> None:
    port = free_port()
    process = MinqingProcess(
        ["serve", "intake", "--port", str(port)],
        base_env(
            MINQING_BROKER_URL=amqp_url,
            MINQING_DATABASE_URL=postgres_url,
            MINQING_DATA_DIR=str(tmp_path / "data"),
            MINQING_MAIL_ADDRESS=COUNTY,
            MINQING_IMAP_URL=dovecot.url,
            MINQING_IMAP_POLL_SECONDS="1",
        ),
        port,
        tmp_path / "intake.log",
    )
    try:
        process.start()
        uids = dovecot.append_all([mail(f"第{i}件事", f"内容{i}") for i in range(MESSAGES)])
        # Killed while it is taking the mailbox: some messages recorded, not all.
        wait_until(lambda: recorded_so_far(intake_db) >= 5, timeout=30, interval=0.01)
        process.kill()
        partial = counts(intake_db)[1]
        assert partial < MESSAGES, "the poller finished before it could be killed"

        process.start()
        wait_until(lambda: counts(intake_db) == (MESSAGES, MESSAGES), timeout=60)
        flags = dovecot.flags()
        wait_until(
            lambda: all({TAKEN, "\\Seen"} <= dovecot.flags()[uid] for uid in uids), timeout=30
        )
        assert counts(intake_db) == (MESSAGES, MESSAGES)
        assert len(flags) == MESSAGES
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{process.log_tail()}") from None
    finally:
        process.ensure_stopped()
