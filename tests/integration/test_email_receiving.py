"""Taking in email: new cases, replies threaded onto theirs, robots' mail kept but never a case."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services import intake
from services.intake.channels.email import receiving
from services.intake.channels.email.message import ACKNOWLEDGEMENT_HEADER
from services.intake.channels.email.receiving import SEALED_MESSAGE, Taken, take
from services.intake.models import Attachment, Case, EmailMessage, TimelineEntry
from services.intake.submissions import open_contact
from services.kernel.config import load_settings
from services.kernel.events.contracts import ACKNOWLEDGEMENT_RECIPIENT
from services.kernel.migrations import upgrade
from services.kernel.outbox import outbox
from services.kernel.runtime import ServiceRuntime
from services.kernel.sealing import sealer_for
from tests.mails import CITIZEN, COUNTY, PNG, bounce, mail, new_message_id
from tests.support import TEST_SECRET

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceRuntime]:
    """Intake on PostgreSQL and on the embedded SQLite, not started: the tests take mail
    directly, as the SMTP receiver and the IMAP poller do."""
    environ = {
        "MINQING_DATA_DIR": str(tmp_path),
        "MINQING_SECRET_KEY": TEST_SECRET,
        "MINQING_MAIL_ADDRESS": COUNTY,
    }
    if request.param == "postgresql":
        environ["MINQING_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    settings = load_settings(environ)
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    yield runtime
    runtime.database.dispose()


def taken(runtime: ServiceRuntime, raw: bytes, sender: str | None = None) -> Taken:
    return take(runtime.work, runtime.settings, raw, "smtp", sender)


def the_case(runtime: ServiceRuntime, tracking_no: str | None) -> Case:
    with runtime.database.session() as session:
        return session.scalars(select(Case).where(Case.tracking_no == tracking_no)).one()


def kept(runtime: ServiceRuntime) -> list[EmailMessage]:
    with runtime.database.session() as session:
        return list(session.scalars(select(EmailMessage).order_by(EmailMessage.received_at)))


def count_cases(runtime: ServiceRuntime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def events(runtime: ServiceRuntime, event_type: str) -> list[dict[str, Any]]:
    with runtime.database.session() as session:
        bodies = session.scalars(select(outbox.c.body).where(outbox.c.event_type == event_type))
        return [json.loads(body)["data"] for body in bodies]


def timeline_notes(runtime: ServiceRuntime, case: Case) -> list[tuple[str, str | None]]:
    with runtime.database.session() as session:
        rows = session.scalars(
            select(TimelineEntry).where(TimelineEntry.case_id == case.id).order_by(TimelineEntry.id)
        )
        return [(row.status, row.note) for row in rows]


def acknowledgement_of(runtime: ServiceRuntime, tracking_no: str | None) -> dict[str, Any]:
    (opened,) = [e for e in events(runtime, "email.case_opened") if e["tracking_no"] == tracking_no]
    return opened


def test_a_citizens_mail_becomes_an_email_case_and_asks_for_an_acknowledgement(
    runtime: ServiceRuntime,
) -> None:
    message_id = new_message_id()
    raw = mail(
        "【咨询】低保怎么申请",
        "请问低保需要什么材料？我的手机 138-1234-5678",
        message_id=message_id,
    )

    result = taken(runtime, raw)

    assert result.outcome == "case"
    case = the_case(runtime, result.tracking_no)
    assert (case.channel, case.kind, case.status) == ("email", "consultation", "received")
    assert case.description == "低保怎么申请\n\n请问低保需要什么材料？我的手机 138-1234-5678"
    assert (case.contact_name, case.contact_email, case.contact_phone) == (
        "王芳",
        CITIZEN,
        "13812345678",
    )
    assert case.reference == message_id
    (record,) = kept(runtime)
    assert (record.outcome, record.case_id, record.raw, record.sender) == (
        "case",
        case.id,
        raw,
        CITIZEN,
    )
    submitted = events(runtime, "case.submitted")
    assert [e["channel"] for e in submitted] == ["email"]
    opened = acknowledgement_of(runtime, result.tracking_no)
    assert opened["subject"] == "【咨询】低保怎么申请"
    assert opened["in_reply_to"] == message_id
    assert opened["acknowledgement_id"] == record.acknowledgement_id
    assert opened["access_code"] == submitted[0]["access_code"]
    sealer = sealer_for(TEST_SECRET, ACKNOWLEDGEMENT_RECIPIENT)
    assert sealer.open(opened["sealed_to"]) == CITIZEN


def test_the_same_message_twice_is_one_case(runtime: ServiceRuntime) -> None:
    raw = mail(message_id=new_message_id())

    first = taken(runtime, raw)
    second = taken(runtime, raw)

    assert (first.outcome, second.outcome) == ("case", "duplicate")
    assert count_cases(runtime) == 1
    assert len(kept(runtime)) == 1


def test_a_message_without_a_message_id_is_known_again_by_its_bytes(
    runtime: ServiceRuntime,
) -> None:
    raw = mail(message_id="")

    assert [taken(runtime, raw).outcome for _ in range(2)] == ["case", "duplicate"]
    assert kept(runtime)[0].message_key.startswith("sha256:")


@pytest.mark.parametrize(
    "raw",
    [
        mail("自动回复：我正在休假", headers={"Auto-Submitted": "auto-replied"}),
        bounce(),
        mail("Re: 您的来信 [20261127-000001]", headers={ACKNOWLEDGEMENT_HEADER: "x"}),
        mail("Out of office", headers={"X-Autoreply": "yes"}),
    ],
    ids=["auto-reply", "bounce", "our-acknowledgement", "x-autoreply"],
)
def test_robots_mail_is_kept_with_its_reason_and_never_becomes_a_case(
    runtime: ServiceRuntime, raw: bytes
) -> None:
    assert taken(runtime, raw).outcome == "automated"

    assert count_cases(runtime) == 0
    (record,) = kept(runtime)
    # The parser names the reason; what matters here is that there is one.
    assert (record.outcome, record.raw) == ("automated", raw)
    assert record.reason


def test_mail_from_our_own_mailbox_is_a_loop_even_without_a_robots_header(
    runtime: ServiceRuntime,
) -> None:
    assert taken(runtime, mail("转发", sender=f"县长信箱 <{COUNTY}>")).outcome == "automated"

    assert [(r.outcome, r.reason) for r in kept(runtime)] == [("automated", "loop")]
    assert count_cases(runtime) == 0


def test_a_reply_to_the_acknowledgement_is_added_to_the_case(runtime: ServiceRuntime) -> None:
    first = taken(runtime, mail(message_id=new_message_id()))
    acknowledgement_id = acknowledgement_of(runtime, first.tracking_no)["acknowledgement_id"]
    reply = mail(
        f"Re: 小区路灯坏了 [{first.tracking_no}]",
        "补充一下：坏的是3号楼门口那盏。\n\n"
        "在 2026年11月27日 10:00，12345 写道：\n> 您的来信已收到并受理。\n",
        sender="另一个人 <someone.else@example.com>",
        headers={"In-Reply-To": f"<{acknowledgement_id}>"},
        attachments=[("路灯.png", "image/png", PNG)],
    )

    result = taken(runtime, reply)

    assert (result.outcome, result.tracking_no) == ("reply", first.tracking_no)
    case = the_case(runtime, first.tracking_no)
    assert timeline_notes(runtime, case)[-1] == ("supplemented", "补充一下：坏的是3号楼门口那盏。")
    (supplemented,) = events(runtime, "case.supplemented")
    assert (supplemented["channel"], supplemented["attachments"]) == ("email", 1)
    assert count_cases(runtime) == 1
    assert [r.outcome for r in kept(runtime)] == ["case", "reply"]


def test_a_reply_to_the_citizens_own_first_mail_threads_by_its_references(
    runtime: ServiceRuntime,
) -> None:
    original = new_message_id()
    first = taken(runtime, mail(message_id=original))
    reply = mail(
        "再补充",
        "晚上七点以后最黑。",
        headers={"References": f"<unknown@elsewhere> <{original}>"},
    )

    assert taken(runtime, reply) == Taken("reply", first.tracking_no)


def test_a_tracking_number_in_the_subject_threads_only_from_the_cases_own_sender(
    runtime: ServiceRuntime,
) -> None:
    first = taken(runtime, mail())
    subject = f"关于编号 {first.tracking_no} 的补充"

    from_citizen = taken(runtime, mail(subject, "又坏了一盏。", sender=CITIZEN.upper()))
    from_stranger = taken(runtime, mail(subject, "我也要投诉。", sender="stranger@example.com"))

    assert from_citizen == Taken("reply", first.tracking_no)
    assert from_stranger.outcome == "case"
    assert from_stranger.tracking_no != first.tracking_no
    assert count_cases(runtime) == 2


def test_attachments_are_kept_and_a_disallowed_one_is_dropped_with_a_note(
    runtime: ServiceRuntime,
) -> None:
    raw = mail(
        attachments=[
            ("现场.png", "image/png", PNG),
            ("setup.exe", "application/octet-stream", b"MZ\x90\x00"),
            ("材料.pdf", "application/pdf", b"%PDF-1.4 minimal"),
        ]
    )

    result = taken(runtime, raw)

    assert result.outcome == "case"
    case = the_case(runtime, result.tracking_no)
    with runtime.database.session() as session:
        files = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    assert sorted((f.filename, f.content_type) for f in files) == [
        ("材料.pdf", "application/pdf"),
        ("现场.png", "image/png"),
    ]
    assert "附件未接收：setup.exe" in case.description
    assert "setup.exe" in (kept(runtime)[0].reason or "")


def test_a_message_read_only_in_part_still_becomes_a_case_and_is_kept_whole(
    runtime: ServiceRuntime,
) -> None:
    # Cut off in the middle of its second part: no closing boundary, no end of the header block.
    raw = (
        b"From: citizen@example.com\r\nTo: 12345@county.gov.cn\r\nSubject: road\r\n"
        b"Message-ID: <cut@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n'
        b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "桥上的栏杆断了".encode()
        + b"\r\n--zz\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Enc"
    )

    result = taken(runtime, raw)

    assert result.outcome == "case"
    assert "桥上的栏杆断了" in the_case(runtime, result.tracking_no).description
    (record,) = kept(runtime)
    assert record.raw == raw
    assert record.defects


def test_a_tip_off_by_email_is_sealed_with_its_raw_message(runtime: ServiceRuntime) -> None:
    raw = mail("【举报】村干部虚报低保", "某村干部给亲属虚报低保。")

    result = taken(runtime, raw)

    case = the_case(runtime, result.tracking_no)
    assert case.kind == "tip-off"
    assert (case.contact_email, case.contact_name) == (None, None)
    assert case.sealed_contact is not None
    assert open_contact(case.sealed_contact, TEST_SECRET).email == CITIZEN
    (record,) = kept(runtime)
    assert record.sealed
    assert record.sender is None
    assert record.raw != raw
    opened = sealer_for(TEST_SECRET, SEALED_MESSAGE).open(record.raw.decode())
    assert base64.b64decode(opened) == raw
    # The reporter still gets the acknowledgement: the address travels sealed.
    assert acknowledgement_of(runtime, result.tracking_no)["tracking_no"] == case.tracking_no
    # And a reply by tracking number is recognised from the sealed contact.
    reply = taken(runtime, mail(f"补充 {case.tracking_no}", "还有一个线索。"))
    assert reply == Taken("reply", case.tracking_no)
    assert kept(runtime)[-1].sealed


def test_mail_with_no_address_to_answer_is_refused_but_kept(runtime: ServiceRuntime) -> None:
    raw = mail(sender="undisclosed-recipients:;")

    assert taken(runtime, raw).outcome == "refused"
    assert count_cases(runtime) == 0
    assert kept(runtime)[0].raw == raw


def test_the_smtp_envelope_sender_answers_for_an_unreadable_from(
    runtime: ServiceRuntime,
) -> None:
    result = taken(runtime, mail(sender="undisclosed-recipients:;"), sender=CITIZEN)

    assert result.outcome == "case"
    assert the_case(runtime, result.tracking_no).contact_email == CITIZEN


def test_mail_that_cannot_be_handled_is_still_kept(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> Taken:
        raise RuntimeError("a bug")

    monkeypatch.setattr(receiving, "_new_case", broken)
    raw = mail()

    assert taken(runtime, raw).outcome == "held"
    assert count_cases(runtime) == 0
    (record,) = kept(runtime)
    assert (record.outcome, record.raw) == ("held", raw)
