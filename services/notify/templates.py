"""The messages citizens receive, in Chinese; filled, signed and measured here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.notify.sms import segments


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    # Parts a filled message may take; step notices must fit in one.
    max_segments: int = 1


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "case_received",
            "您的诉求已受理，编号{tracking_no}，查询码{access_code}，我们将于{promised_date}前答复。",
        ),
        Template(
            "case_dispatched", "您的诉求{tracking_no}已交{department}办理，将于{deadline}前答复。"
        ),
        Template(
            "case_merged",
            "您的诉求{tracking_no}已并入{into_tracking_no}合并办理，可用原查询码查看进展。",
        ),
        # Answers to the citizen's own SMS, and the day's overflow in one message (policy).
        Template("status_reply", "您的诉求{tracking_no}{state}。", max_segments=2),
        Template(
            "opt_out_confirmed",
            "您已退订诉求进展短信，补正材料等必要通知仍会发送。回复“订阅”可恢复。",
        ),
        Template("opt_in_confirmed", "您已恢复接收诉求进展短信，回复TD可退订。"),
        Template(
            "digest",
            "昨日另有{count}条诉求通知未逐条发送，涉及{cases}，可凭编号和查询码查询进展。",
            max_segments=2,
        ),
    )
}


def format_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class RenderedMessage:
    template: str
    text: str
    segments: int


def render(name: str, signature: str, **values: str) -> RenderedMessage:
    """The exact text sent: signature first, as carriers in China require."""
    template = TEMPLATES[name]
    text = signature + template.text.format(**values)
    return RenderedMessage(name, text, segments(text))


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    text: str


# The acknowledgement of a case that came by email, answered in the citizen's thread.
EMAIL_ACKNOWLEDGEMENT = "email_acknowledgement"
EMAIL_ACKNOWLEDGEMENTS = {
    "zh": EmailTemplate(
        "Re: {subject} [{tracking_no}]",
        "您好：\n\n"
        "您的来信已收到并受理。\n\n"
        "受理编号：{tracking_no}\n"
        "查询码：{access_code}\n"
        "我们将于{promised_date}前答复。\n\n"
        "凭受理编号和查询码可以随时查询办理进度。如需补充材料，直接回复本邮件即可"
        "（请保留标题中的受理编号）。\n\n"
        "{sender}\n"
        "（本邮件由系统自动发送）\n",
    ),
    "en": EmailTemplate(
        "Re: {subject} [{tracking_no}]",
        "Hello,\n\n"
        "We have received your message and opened a case for it.\n\n"
        "Tracking number: {tracking_no}\n"
        "Access code: {access_code}\n"
        "We will answer by {promised_date}.\n\n"
        "With the tracking number and the access code you can follow your case at any time. "
        "To add material, reply to this email (keep the tracking number in the subject).\n\n"
        "{sender}\n"
        "(This email was sent automatically.)\n",
    ),
}


def render_email(language: str, sender: str, **values: str) -> tuple[str, str]:
    """The acknowledgement's subject and text in the citizen's language (Chinese by default)."""
    template = EMAIL_ACKNOWLEDGEMENTS.get(language, EMAIL_ACKNOWLEDGEMENTS["zh"])
    subject = template.subject.format(**values)
    return " ".join(subject.split()), template.text.format(sender=sender, **values)
