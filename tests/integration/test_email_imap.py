"""The IMAP poller against a real Dovecot: takes new mail once, and marks it only once recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services import intake
from services.intake.channels.email.imap import TAKEN, ImapPoller
from services.intake.channels.email.receiving import take
from services.intake.models import Case, EmailMessage
from services.kernel.config import load_settings
from services.kernel.migrations import upgrade
from services.kernel.runtime import ServiceRuntime
from tests.dovecot import Dovecot, dovecot_server
from tests.mails import COUNTY, mail, new_message_id
from tests.support import TEST_SECRET, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def runtime(postgres_url: str, tmp_path: Path, dovecot: Dovecot) -> Iterator[ServiceRuntime]:
    settings = load_settings(
        {
            "MINQING_DATABASE_URL": postgres_url,
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_SECRET_KEY": TEST_SECRET,
            "MINQING_MAIL_ADDRESS": COUNTY,
            "MINQING_IMAP_URL": dovecot.url,
            "MINQING_IMAP_POLL_SECONDS": "1",
        }
    )
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


def counts(runtime: ServiceRuntime) -> tuple[int, int]:
    with runtime.database.session() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        messages = session.scalar(select(func.count()).select_from(EmailMessage)) or 0
    return cases, messages


def test_new_mail_is_taken_marked_and_not_taken_again_after_a_restart(
    runtime: ServiceRuntime, dovecot: Dovecot
) -> None:
    uids = [dovecot.append(mail(f"第{i}件事", f"内容{i}")) for i in range(3)]

    assert ImapPoller(runtime.work, runtime.settings).poll() == 3

    assert counts(runtime) == (3, 3)
    flags = dovecot.flags()
    assert all({TAKEN, "\\Seen"} <= flags[uid] for uid in uids)
    # A new poller, as after a restart, finds nothing new; a new message is taken alone.
    restarted = ImapPoller(runtime.work, runtime.settings)
    assert restarted.poll() == 0
    dovecot.append(mail("第四件事", "内容4"))
    assert restarted.poll() == 1
    assert counts(runtime) == (4, 4)


def test_a_message_recorded_but_not_marked_before_a_crash_is_marked_without_a_second_case(
    runtime: ServiceRuntime, dovecot: Dovecot
) -> None:
    raw = mail(message_id=new_message_id())
    uid = dovecot.append(raw)
    # What a poller that died right after recording leaves: the case, and the message unmarked.
    assert take(runtime.work, runtime.settings, raw, "imap").outcome == "case"
    assert TAKEN not in dovecot.flags()[uid]

    assert ImapPoller(runtime.work, runtime.settings).poll() == 1

    assert counts(runtime) == (1, 1)
    assert {TAKEN, "\\Seen"} <= dovecot.flags()[uid]


def test_mail_a_person_has_already_read_is_left_alone(
    runtime: ServiceRuntime, dovecot: Dovecot
) -> None:
    uid = dovecot.append(mail())
    imap = dovecot.connect()
    imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    imap.logout()

    assert ImapPoller(runtime.work, runtime.settings).poll() == 0
    assert counts(runtime) == (0, 0)


def test_the_poller_thread_takes_mail_as_it_arrives_and_survives_a_wrong_password(
    runtime: ServiceRuntime, dovecot: Dovecot
) -> None:
    wrong = dataclasses.replace(
        runtime.settings, imap_url=dovecot.url.replace("mailbox-secret", "wrong")
    )
    failing = ImapPoller(runtime.work, wrong)
    failing.start()
    poller = ImapPoller(runtime.work, runtime.settings)
    poller.start()
    try:
        dovecot.append(mail())
        wait_until(lambda: counts(runtime) == (1, 1), timeout=15)
    finally:
        poller.stop()
        failing.stop()
    assert not failing._thread.is_alive()
