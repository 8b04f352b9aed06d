"""Quiet hours and the daily cap, on PostgreSQL and RabbitMQ: held, released, or one digest."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from services import intake, notify
from services.intake.messages import of_case as case_messages
from services.kernel.config import Settings
from services.kernel.events.contracts import CaseSubmitted, Contact, Language
from services.kernel.runtime import ServiceRuntime
from services.kernel.workdays import LOCAL_TZ
from services.notify.models import Message, OptOut
from services.notify.receipts import finish
from services.notify.scheduling import release_due
from tests.support import assigned, publish_envelopes, read_sms, start_runtimes, wait_until

pytestmark = pytest.mark.integration

PHONE = "13900000077"


def submitted(tracking_no: str, language: Language = "zh") -> CaseSubmitted:
    return CaseSubmitted(
        case_id=uuid.uuid4(),
        tracking_no=tracking_no,
        access_code="ABC234",
        channel="web",
        kind="complaint",
        category=None,
        description="路灯坏了",
        location=None,
        contact=Contact(phone=PHONE),
        submitted_at=datetime.now(UTC),
        promised_date=date(2026, 12, 16),
        language=language,
    )


def quiet_now() -> tuple[time, time]:
    """Quiet hours around this very minute, wherever the clock stands."""
    local = datetime.now(LOCAL_TZ)
    return (local - timedelta(hours=1)).time(), (local + timedelta(hours=1)).time()


def statuses(runtime: ServiceRuntime) -> dict[str, list[str]]:
    with runtime.database.session() as session:
        found: dict[str, list[str]] = {}
        for template, status in session.execute(
            select(Message.template, Message.status).order_by(Message.created_at)
        ).tuples():
            found.setdefault(template, []).append(status)
        return found


def time_passes(runtime: ServiceRuntime) -> None:
    """As if the morning had come: everything held may go now."""
    with runtime.work() as work:
        work.session.execute(
            update(Message)
            .where(Message.not_before.is_not(None))
            .values(not_before=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_step_notice_waits_out_the_quiet_hours_while_the_receipt_goes_at_once(
    settings: Settings, running: list[ServiceRuntime], tmp_path: Path
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, dataclasses.replace(settings, quiet_hours=quiet_now()))
    runtime.start()
    running.append(runtime)
    case = submitted("20261201-000001")
    publish_envelopes(
        settings.broker_url,
        [
            case.envelope(producer="intake"),
            assigned(case.case_id, case.tracking_no).envelope(producer="routing"),
        ],
    )
    outbox = tmp_path / "sms-outbox.jsonl"

    wait_until(lambda: statuses(runtime).get("case_dispatched") == ["held"], 20)
    wait_until(lambda: [s["template"] for s in read_sms(outbox)] == ["case_received"], 20)
    with runtime.database.session() as session:
        held = session.scalars(select(Message).where(Message.status == "held")).one()
    # Until the end of the quiet hours, an hour from now.
    assert held.not_before is not None
    wait = held.not_before - datetime.now(UTC)
    assert timedelta(minutes=55) < wait <= timedelta(hours=1)

    time_passes(runtime)
    wait_until(
        lambda: [s["template"] for s in read_sms(outbox)] == ["case_received", "case_dispatched"],
        30,
    )


DIGESTS = {
    "zh": "{signature}昨日另有3条诉求通知未逐条发送，涉及{a}、{b}、{c}，可凭编号和查询码查询进展。",
    "en": "{signature}Yesterday 3 more notices were not sent one by one. They concern {a}, {b} "
    "and {c}; see their progress with the case number and access code.",
}


@pytest.mark.parametrize(
    ("chosen", "digest_language"),
    [
        (("zh", "zh", "zh"), "zh"),
        (("en", "en", "en"), "en"),
        # A number that chose Chinese for one of its cases reads Chinese.
        (("en", "zh", "en"), "zh"),
    ],
)
def test_beyond_the_daily_cap_notices_merge_into_one_digest_the_next_morning(
    settings: Settings,
    running: list[ServiceRuntime],
    tmp_path: Path,
    chosen: tuple[Language, ...],
    digest_language: Language,
) -> None:
    runtime, cases, sent = capped_into_a_digest(settings, running, chosen)
    outbox = tmp_path / "sms-outbox.jsonl"
    assert sent["to"] == PHONE
    signature = settings.sms_signature_en if digest_language == "en" else settings.sms_signature
    a, b, c = (case.tracking_no for case in cases)
    assert sent["text"] == DIGESTS[digest_language].format(signature=signature, a=a, b=b, c=c)
    assert statuses(runtime)["case_dispatched"] == ["merged"] * 3
    assert [s["template"] for s in read_sms(outbox)].count("case_dispatched") == 0


def test_each_case_shows_its_notice_went_in_the_digest(
    settings: Settings, running: list[ServiceRuntime]
) -> None:
    [intake_runtime] = start_runtimes(settings, running, intake.SERVICE)
    notify_runtime, cases, _ = capped_into_a_digest(settings, running, ("zh", "zh", "zh"))

    def dispatch_notices() -> list[tuple[str, str]]:
        with intake_runtime.database.session() as session:
            return [
                (row.channel, row.status)
                for case in cases
                for row in case_messages(session, case.case_id)
                if row.template == "case_dispatched"
            ]

    wait_until(lambda: dispatch_notices() == [("digest", "sent")] * 3, 20)

    # The digest never arrived (as a receipt would say): so each case learns.
    with notify_runtime.work() as work:
        digest = work.session.scalars(select(Message).where(Message.template == "digest")).one()
        finish(work, digest, "failed", "UNDELIV err:001", datetime.now(UTC))
    wait_until(lambda: dispatch_notices() == [("digest", "failed")] * 3, 20)


def capped_into_a_digest(
    settings: Settings, running: list[ServiceRuntime], chosen: tuple[Language, ...]
) -> tuple[ServiceRuntime, list[CaseSubmitted], dict[str, str]]:
    """Three cases of one number whose dispatch notices the cap of 2 a day merges into a digest,
    sent once the morning comes: notify's runtime, the cases, and the digest as the gateway got it.
    """
    runtime = ServiceRuntime(
        notify.SERVICE, dataclasses.replace(settings, quiet_hours=None, sms_daily_cap=2)
    )
    runtime.start()
    running.append(runtime)
    cases = [submitted(f"20261201-00001{n}", language) for n, language in enumerate(chosen)]
    publish_envelopes(settings.broker_url, [c.envelope(producer="intake") for c in cases])
    outbox = settings.data_dir / "sms-outbox.jsonl"
    # Receipts are urgent: never capped, though they count.
    wait_until(lambda: len(read_sms(outbox)) == 3, 20)

    publish_envelopes(
        settings.broker_url,
        [assigned(c.case_id, c.tracking_no).envelope(producer="routing") for c in cases],
    )
    wait_until(lambda: statuses(runtime).get("case_dispatched") == ["capped"] * 3, 20)
    assert release_due(runtime.work) == []

    time_passes(runtime)

    def digest() -> list[dict[str, str]]:
        return [s for s in read_sms(outbox) if s["template"] == "digest"]

    [sent] = wait_until(digest, 30)
    return runtime, cases, sent


def test_a_held_notice_of_a_number_that_opted_out_meanwhile_is_never_sent(
    settings: Settings,
) -> None:
    runtime = ServiceRuntime(notify.SERVICE, settings)
    past = datetime.now(UTC) - timedelta(minutes=1)

    def held(template: str) -> Message:
        return Message(
            id=uuid.uuid4(),
            event_id=uuid.uuid4(),
            recipient=PHONE,
            template=template,
            channel="sms",
            tracking_no="20261201-000021",
            text="x",
            segments=1,
            status="held",
            created_at=past,
            not_before=past,
            counted_on=past.date(),
        )

    dispatched, material = held("case_dispatched"), held("case_material_requested")
    try:
        with runtime.work() as work:
            work.session.add_all([dispatched, material, OptOut(recipient=PHONE, opted_out_at=past)])
        # Two processes' release jobs, one after the other: the second finds nothing left.
        assert release_due(runtime.work) == [str(material.id)]
        assert release_due(runtime.work) == []
        with runtime.database.session() as session:
            assert session.get_one(Message, dispatched.id).status == "suppressed"
            assert session.get_one(Message, material.id).status == "queued"
    finally:
        runtime.database.dispose()
