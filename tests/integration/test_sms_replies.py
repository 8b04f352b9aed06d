"""A citizen's SMS replies, on PostgreSQL and RabbitMQ: rating, status, message, opting out."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services import intake, notify
from services.intake.models import Case, Rating, TimelineEntry
from services.intake.submissions import Receipt, Submission, accept
from services.kernel.config import Settings
from services.kernel.events.contracts import Contact
from services.kernel.runtime import ServiceRuntime
from services.notify.gateways import InboundSms
from services.notify.models import (
    CaseProgress,
    Department,
    LiaisonOfficer,
    Message,
    OptOut,
    Reply,
)
from services.notify.replies import take_reply
from tests.support import (
    MINQING,
    REPO,
    accept_cases,
    assigned,
    base_env,
    publish_envelopes,
    read_sms,
    resolved,
    start_runtimes,
    wait_until,
)

pytestmark = pytest.mark.integration

PHONE = "13812345678"


def reply(runtime: ServiceRuntime, text: str, ref: str, sender: str = "+86" + PHONE) -> None:
    with runtime.work() as work:
        take_reply(work, InboundSms(sender, text, datetime.now(UTC), ref))


def sms_with(outbox: Path, template: str, count: int = 1) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        sent = [s for s in read_sms(outbox) if s["template"] == template]
        return sent if len(sent) >= count else []

    sent: list[dict[str, Any]] = wait_until(found, 20)
    return sent


def a_resolved_case(
    intake_runtime: ServiceRuntime, notify_runtime: ServiceRuntime, settings: Settings, outbox: Path
) -> Receipt:
    [receipt] = accept_cases(intake_runtime, settings.secret_key, 1)
    sms_with(outbox, "case_received")
    publish_envelopes(
        settings.broker_url,
        [resolved(receipt.case_id, receipt.tracking_no, "校车已整改，超载司机已处罚。")],
    )

    def known_resolved() -> bool:
        with intake_runtime.database.session() as session:
            case = session.get(Case, receipt.case_id)
            intake_knows = case is not None and case.status == "resolved"
        return intake_knows and progress_of(notify_runtime, receipt) == "resolved"

    wait_until(known_resolved, 20)
    return receipt


def progress_of(runtime: ServiceRuntime, receipt: Receipt) -> str | None:
    with runtime.database.session() as session:
        found = session.get(CaseProgress, receipt.case_id)
        return found.status if found else None


def timeline(runtime: ServiceRuntime, receipt: Receipt) -> Sequence[tuple[str, str | None]]:
    with runtime.database.session() as session:
        return list(
            session.execute(
                select(TimelineEntry.status, TimelineEntry.note)
                .where(TimelineEntry.case_id == receipt.case_id)
                .order_by(TimelineEntry.id)
            ).tuples()
        )


def test_a_digit_after_resolution_rates_the_case_and_jd_answers_with_its_status(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    receipt = a_resolved_case(intake_runtime, notify_runtime, settings, outbox)

    reply(notify_runtime, "JD", "mo-1")
    [status] = sms_with(outbox, "status_reply")
    assert status["to"] == PHONE
    assert status["text"] == (
        f"{settings.sms_signature}您的诉求{receipt.tracking_no}已由县教育局办结，"
        "回复1满意、2基本满意、3不满意进行评价。"
    )

    reply(notify_runtime, "２", "mo-2")

    def rating() -> tuple[str, str] | None:
        with intake_runtime.database.session() as session:
            found = session.get(Rating, receipt.case_id)
            return (found.rating, found.channel) if found else None

    assert wait_until(rating, 20) == ("basically-satisfied", "sms")
    wait_until(lambda: progress_of(notify_runtime, receipt) == "rated", 20)


def test_any_other_reply_is_the_citizens_message_on_the_case_timeline(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    [receipt] = accept_cases(intake_runtime, settings.secret_key, 1)
    sms_with(outbox, "case_received")
    wait_until(lambda: progress_of(notify_runtime, receipt) == "received", 20)

    # Not yet resolved: a "1" is no rating, but still what the citizen said.
    reply(notify_runtime, "校车今天又超载了，车牌浙B12345", "mo-3")
    reply(notify_runtime, "1", "mo-4")
    # The gateway hands the same SMS over again: taken once.
    reply(notify_runtime, "1", "mo-4")

    def supplements() -> list[str | None]:
        found = [
            note for status, note in timeline(intake_runtime, receipt) if status == "supplemented"
        ]
        return found if len(found) >= 2 else []

    assert wait_until(supplements, 20) == ["校车今天又超载了，车牌浙B12345", "1"]
    with intake_runtime.database.session() as session:
        assert session.get(Rating, receipt.case_id) is None


def test_td_stops_step_notices_but_not_the_essential_ones_and_start_undoes_it(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    [receipt] = accept_cases(intake_runtime, settings.secret_key, 1)
    sms_with(outbox, "case_received")

    reply(notify_runtime, "退订", "mo-5")
    [confirmation] = sms_with(outbox, "opt_out_confirmed")
    assert confirmation["to"] == PHONE
    with notify_runtime.database.session() as session:
        assert session.get(OptOut, PHONE) is not None

    publish_envelopes(
        settings.broker_url,
        [assigned(receipt.case_id, receipt.tracking_no).envelope(producer="routing")],
    )

    def dispatched_status() -> str | None:
        with notify_runtime.database.session() as session:
            return session.scalar(
                select(Message.status).where(Message.template == "case_dispatched")
            )

    assert wait_until(dispatched_status, 20) == "suppressed"
    assert [s for s in read_sms(outbox) if s["template"] == "case_dispatched"] == []

    reply(notify_runtime, "START", "mo-6")
    sms_with(outbox, "opt_in_confirmed")
    with notify_runtime.database.session() as session:
        assert session.get(OptOut, PHONE) is None


def test_minqing_notify_reply_takes_an_sms_in_from_the_command_line(
    settings: Settings,
    running: list[ServiceRuntime],
    tmp_path: Path,
    postgres_url: str,
    amqp_url: str,
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    [receipt] = accept_cases(intake_runtime, settings.secret_key, 1)
    sms_with(outbox, "case_received")
    wait_until(lambda: progress_of(notify_runtime, receipt) == "received", 20)

    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path),
        MINQING_SMS_GATEWAY=f"file://{outbox}",
    )
    done = subprocess.run(
        [*MINQING, "notify", "reply", "--from", PHONE, "--ref", "cli-1", "jd"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [answer] = sms_with(outbox, "status_reply")
    assert receipt.tracking_no in answer["text"]
    assert "正在分派" in answer["text"]


def test_a_tip_off_reporter_asking_for_progress_is_answered_without_the_number_kept_in_clear(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    reporter = "13912345670"
    submission = Submission(
        "web", "tip-off", "举报：河边的造纸厂半夜排污", None, None, Contact(phone=reporter)
    )
    with intake_runtime.work() as work:
        receipt = accept(work, submission, settings.secret_key)
    sms_with(outbox, "case_received")
    wait_until(lambda: progress_of(notify_runtime, receipt) == "received", 20)

    reply(notify_runtime, "进度", "mo-7", sender=reporter)

    [answer] = sms_with(outbox, "status_reply")
    assert answer["to"] == reporter
    assert receipt.tracking_no in answer["text"]
    with notify_runtime.database.session() as session:
        kept = [
            *session.scalars(select(Message.recipient)),
            *session.scalars(select(Reply.recipient)),
        ]
    assert len(kept) == 3
    assert all(recipient.startswith("sealed:") for recipient in kept)


def test_each_citizen_is_answered_in_the_language_they_chose_and_staff_in_chinese(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    intake_runtime, notify_runtime = start_runtimes(
        settings, running, intake.SERVICE, notify.SERVICE
    )
    english, liaison = "13812345679", "13700000001"
    with notify_runtime.work() as work:
        work.session.add_all(
            [
                Department(
                    code="edu",
                    name="县教育局",
                    name_en="County Education Bureau",
                    published_at=datetime.now(UTC) - timedelta(days=1),
                ),
                LiaisonOfficer(department_code="edu", name="李四", phone=liaison),
            ]
        )
    with intake_runtime.work() as work:
        receipts = {
            language: accept(
                work,
                Submission(
                    "web",
                    "complaint",
                    "校车超载",
                    None,
                    None,
                    Contact(phone=phone),
                    language=language,
                ),
                settings.secret_key,
            )
            for language, phone in (("zh", PHONE), ("en", english))
        }
    sms_with(outbox, "case_received", 2)
    # One after the other, so that the English case is the one the liaison officer heard of last.
    for receipt in receipts.values():
        publish_envelopes(
            settings.broker_url,
            [assigned(receipt.case_id, receipt.tracking_no).envelope(producer="routing")],
        )
        wait_until(lambda r=receipt: progress_of(notify_runtime, r) == "dispatched", 20)
    sms_with(outbox, "work_order_arrived", 2)

    for n, sender in enumerate((PHONE, english, liaison)):
        reply(notify_runtime, "JD", f"mo-jd-{n}", sender=sender)
    for n, sender in enumerate((PHONE, english)):
        reply(notify_runtime, "TD", f"mo-td-{n}", sender=sender)
        reply(notify_runtime, "START", f"mo-start-{n}", sender=sender)

    zh, en = settings.sms_signature, settings.sms_signature_en
    status = {s["to"]: s["text"] for s in sms_with(outbox, "status_reply", 3)}
    assert status[PHONE] == (
        f"{zh}您的诉求{receipts['zh'].tracking_no}已交县教育局办理，将于12月16日前答复。"
    )
    assert status[english] == (
        f"{en}Case {receipts['en'].tracking_no} is now with County Education Bureau, "
        "who will answer by 16 Dec."
    )
    # The liaison officer heard of the English case last, and reads Chinese as all staff do.
    assert status[liaison] == (
        f"{zh}您的诉求{receipts['en'].tracking_no}已交县教育局办理，将于12月16日前答复。"
    )
    opted_out = {s["to"]: s["text"] for s in sms_with(outbox, "opt_out_confirmed", 2)}
    assert opted_out[PHONE] == (
        f"{zh}您已退订诉求进展短信，补正材料等必要通知仍会发送。回复“订阅”可恢复。"
    )
    assert opted_out[english] == (
        f"{en}You will get no more progress SMS; essential ones, such as requests for "
        "material, still come. Reply START to get them again."
    )
    opted_in = {s["to"]: s["text"] for s in sms_with(outbox, "opt_in_confirmed", 2)}
    assert opted_in[PHONE] == f"{zh}您已恢复接收诉求进展短信，回复TD可退订。"
    assert opted_in[english] == f"{en}Progress SMS are back on. Reply STOP to stop them."
