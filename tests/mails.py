"""Citizens' mail for the email channel's tests, built as a mail program would."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP

COUNTY = "12345@county.gov.cn"
CITIZEN = "wang.fang@example.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_message_id() -> str:
    return f"{uuid.uuid4().hex}@mail.example.com"


def mail(
    subject: str = "小区路灯坏了",
    text: str = "越溪乡王家村小区路灯坏了一个星期，晚上很黑，老人孩子出门不安全。",
    *,
    sender: str = f"王芳 <{CITIZEN}>",
    message_id: str | None = None,
    headers: Mapping[str, str] = {},
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """An email to the county's mailbox; `message_id` None gives it a fresh one, "" none."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = COUNTY
    message["Subject"] = subject
    if message_id != "":
        message["Message-ID"] = f"<{message_id or new_message_id()}>"
    for name, value in headers.items():
        message[name] = value
    message.set_content(text)
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def bounce() -> bytes:
    """A delivery status notification, as a mail server sends back."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\r\n"
        f"To: {COUNTY}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{new_message_id()}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "This is the mail system. Your message could not be delivered.\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mail.example.com\r\n\r\n"
        "Final-Recipient: rfc822; nobody@example.com\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "--b1--\r\n"
    ).encode()
