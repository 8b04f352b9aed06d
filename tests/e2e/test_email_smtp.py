"""Email through the real SMTP receiver of `minqing serve intake` and of `minqing up`."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mails import CITIZEN, COUNTY, PNG, mail, new_message_id
from tests.support import (
    Cluster,
    MinqingProcess,
    base_env,
    free_port,
    read_sms,
    wait_until,
)

pytestmark = pytest.mark.e2e

PHONE = "13812345678"


class EmailCluster(Cluster):
    def __init__(self, processes: dict[str, MinqingProcess], smtp_port: int, root: Path) -> None:
        super().__init__(processes)
        self.smtp_port = smtp_port
        self.email_outbox = root / "email-outbox.jsonl"
        self.sms_outbox = root / "sms-outbox.jsonl"


@pytest.fixture
def services(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[EmailCluster]:
    smtp_port = free_port()
    env = base_env(
        MINQING_BROKER_URL=amqp_url,
        MINQING_DATABASE_URL=postgres_url,
        MINQING_DATA_DIR=str(tmp_path / "data"),
        MINQING_SMS_GATEWAY=f"file://{tmp_path / 'sms-outbox.jsonl'}",
        MINQING_EMAIL_GATEWAY=f"file://{tmp_path / 'email-outbox.jsonl'}",
        MINQING_MAIL_ADDRESS=COUNTY,
    )
    processes = {}
    for name in ("intake", "routing", "notify"):
        port = free_port()
        extra = ["--smtp-port", str(smtp_port)] if name == "intake" else []
        processes[name] = MinqingProcess(
            ["serve", name, "--port", str(port), *extra], env, port, tmp_path / f"{name}.log"
        )
    cluster = EmailCluster(processes, smtp_port, tmp_path)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def deliver(port: int, raw: bytes, to: str = COUNTY) -> tuple[int, str]:
    """Hand one message to the receiver as a mail server would; its final answer."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        code, text = smtp.mail(CITIZEN)
        assert code == 250, text
        code, text = smtp.rcpt(to)
        if code != 250:
            return code, text.decode()
        code, text = smtp.data(raw)
        return code, text.decode()


def read_emails(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def acknowledgements_to(path: Path, in_reply_to: str) -> list[dict[str, Any]]:
    return [e for e in read_emails(path) if e["headers"].get("In-Reply-To") == f"<{in_reply_to}>"]


def test_a_mail_over_smtp_becomes_a_routed_case_acknowledged_in_its_thread_and_by_sms(
    services: EmailCluster,
) -> None:
    message_id = new_message_id()
    raw = mail(
        "学校门口校车超载",
        f"学校门口的校车每天超载，孩子们很危险。我的电话 {PHONE}",
        message_id=message_id,
        attachments=[("照片.png", "image/png", PNG)],
    )

    assert deliver(services.smtp_port, raw) == (250, "2.0.0 OK case")

    try:
        (ack,) = wait_until(lambda: acknowledgements_to(services.email_outbox, message_id), 15)
    except AssertionError:
        raise AssertionError(services.logs()) from None
    tracking_no = ack["tracking_no"]
    assert ack["to"] == CITIZEN
    assert ack["from"] == COUNTY
    assert ack["subject"] == f"Re: 学校门口校车超载 [{tracking_no}]"
    headers = ack["headers"]
    assert headers["References"] == f"<{message_id}>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Minqing-Acknowledgement"] == tracking_no
    assert headers["Message-ID"].startswith(f"<{tracking_no}.")
    access_code = ack["text"].split("查询码：")[1].split("\n")[0]

    def both_sms() -> list[dict[str, Any]]:
        found = [
            m
            for m in read_sms(services.sms_outbox)
            if m["tracking_no"] == tracking_no and m["to"] == PHONE
        ]
        return found if len(found) == 2 else []

    sms = wait_until(both_sms, timeout=15)
    assert {m["template"] for m in sms} == {"case_received", "case_dispatched"}
    assert all(m["to"] == PHONE for m in sms)
    intake = services.url("intake")
    view = httpx.get(
        f"{intake}/api/v1/cases/{tracking_no}", params={"access_code": access_code}
    ).json()
    assert (view["channel"], view["status"]) == ("email", "dispatched")

    # The same message again (a sender's retry): no second case, no second acknowledgement.
    assert deliver(services.smtp_port, raw) == (250, "2.0.0 OK duplicate")
    # Our own acknowledgement coming back (a forwarding rule, a robot): never a case.
    assert deliver(services.smtp_port, ack["raw"].encode()) == (250, "2.0.0 OK automated")
    # The citizen answers the acknowledgement: the reply joins the case.
    reply = mail(
        f"Re: 学校门口校车超载 [{tracking_no}]",
        "今天早上又超载了。\n\n> 您的来信已收到并受理。",
        headers={"In-Reply-To": headers["Message-ID"], "References": headers["Message-ID"]},
    )
    assert deliver(services.smtp_port, reply) == (250, "2.0.0 OK reply")

    def supplemented() -> list[dict[str, Any]]:
        timeline = httpx.get(
            f"{intake}/api/v1/cases/{tracking_no}", params={"access_code": access_code}
        ).json()["timeline"]
        return [t for t in timeline if t["status"] == "supplemented"]

    (added,) = wait_until(supplemented, timeout=10)
    assert added["note"] == "今天早上又超载了。"
    assert len(read_emails(services.email_outbox)) == 1
    # On the same services, so that they start once for the file.
    the_receiver_refuses_other_mailboxes_and_oversized_mail(services)

    for name, process in services.processes.items():
        assert process.terminate() == 0, f"{name} did not stop cleanly"


def the_receiver_refuses_other_mailboxes_and_oversized_mail(services: EmailCluster) -> None:
    assert deliver(services.smtp_port, mail(), to="someone@county.gov.cn")[0] == 550

    with smtplib.SMTP("127.0.0.1", services.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.mail(CITIZEN, ["SIZE=30000000"])[0] == 552


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[MinqingProcess, int]]:
    port, smtp_port = free_port(), free_port()
    env = base_env(MINQING_MAIL_ADDRESS=COUNTY)
    process = MinqingProcess(
        [
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "var"),
            "--smtp-port",
            str(smtp_port),
        ],
        env,
        port,
        tmp_path / "minqing.log",
    )
    yield process.start(), smtp_port
    process.ensure_stopped()


def test_minqing_up_receives_mail_and_loses_none_it_answered_even_when_killed(
    embedded: tuple[MinqingProcess, int], tmp_path: Path
) -> None:
    process, smtp_port = embedded
    outbox = tmp_path / "var" / "email-outbox.jsonl"
    ids = [new_message_id() for _ in range(5)]

    answers = [
        deliver(smtp_port, mail(f"第{i}件事", "内容", message_id=i_d)) for i, i_d in enumerate(ids)
    ]
    # Killed right after its last answer: what it answered 250 was committed, and is sent after
    # the restart.
    process.kill()
    assert answers == [(250, "2.0.0 OK case")] * 5
    process.start()

    def all_acknowledged() -> bool:
        return all(len(acknowledgements_to(outbox, i)) == 1 for i in ids)

    wait_until(all_acknowledged, timeout=30)
    tracking_nos = {e["tracking_no"] for e in read_emails(outbox)}
    assert len(tracking_nos) == 5
