"""Notify's email gateways: a real SMTP smarthost (aiosmtpd in the test), and the file ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notify.gateways import GatewayError
from services.notify.gateways.email import OutgoingEmail, email_gateway_from_url
from tests.support import free_port

pytestmark = pytest.mark.integration


class Smarthost:
    """Keeps every message it is given, with its envelope and who logged in."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.password == b"relay-secret")


@pytest.fixture
def smarthost() -> Iterator[tuple[Smarthost, int]]:
    host = Smarthost()
    port = free_port()
    controller = Controller(
        host,
        hostname="127.0.0.1",
        port=port,
        authenticator=host.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield host, port
    finally:
        controller.stop()


def acknowledgement(message_id: str = "m-1") -> OutgoingEmail:
    return OutgoingEmail(
        message_id=message_id,
        sender="12345@county.gov.cn",
        to="wang.fang@example.com",
        subject="Re: 小区路灯坏了 [20261127-000001]",
        text="您好：\n\n您的来信已收到并受理。\n受理编号：20261127-000001\n",
        headers={
            "Message-ID": "<20261127-000001.abcd@county.gov.cn>",
            "In-Reply-To": "<citizen-1@example.com>",
            "References": "<citizen-0@example.com> <citizen-1@example.com>",
            "Auto-Submitted": "auto-replied",
            "X-Minqing-Acknowledgement": "20261127-000001",
        },
        tracking_no="20261127-000001",
        template="email_acknowledgement",
    )


def test_the_smtp_gateway_hands_the_acknowledgement_to_the_smarthost_with_its_headers(
    smarthost: tuple[Smarthost, int],
) -> None:
    host, port = smarthost
    gateway = email_gateway_from_url(f"smtp://relay:relay-secret@127.0.0.1:{port}")

    gateway.send([acknowledgement()])
    gateway.send([acknowledgement()])  # a retry of the same message

    assert host.logins == ["relay"]
    ((mail_from, rcpt_tos, message),) = host.received
    assert (mail_from, rcpt_tos) == ("12345@county.gov.cn", ["wang.fang@example.com"])
    assert message["Subject"] == "Re: 小区路灯坏了 [20261127-000001]"
    assert message["Message-ID"] == "<20261127-000001.abcd@county.gov.cn>"
    assert message["In-Reply-To"] == "<citizen-1@example.com>"
    assert message["References"] == "<citizen-0@example.com> <citizen-1@example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Minqing-Acknowledgement"] == "20261127-000001"
    body = message.get_body(("plain",))
    assert body is not None
    assert "受理编号：20261127-000001" in body.get_content()


def test_a_smarthost_that_is_away_makes_the_send_fail_for_a_retry() -> None:
    gateway = email_gateway_from_url(f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(GatewayError):
        gateway.send([acknowledgement()])


def test_the_file_gateway_writes_each_message_once_with_its_whole_text(tmp_path: Path) -> None:
    outbox = tmp_path / "email-outbox.jsonl"
    gateway = email_gateway_from_url(f"file://{outbox}")

    gateway.send([acknowledgement("m-1"), acknowledgement("m-2")])
    email_gateway_from_url(f"file://{outbox}").send([acknowledgement("m-1")])

    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["m-1", "m-2"]
    raw = message_from_bytes(lines[0]["raw"].encode(), policy=policy.default)
    assert raw["X-Minqing-Acknowledgement"] == "20261127-000001"
    assert lines[0]["headers"]["In-Reply-To"] == "<citizen-1@example.com>"


def test_the_folder_gateway_writes_one_eml_per_message(tmp_path: Path) -> None:
    gateway = email_gateway_from_url(f"file://{tmp_path / 'maildrop'}")

    gateway.send([acknowledgement("m-1"), acknowledgement("m-1")])

    (written,) = (tmp_path / "maildrop").iterdir()
    assert written.name == "m-1.eml"
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == "wang.fang@example.com"
