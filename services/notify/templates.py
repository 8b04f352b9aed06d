"""The messages citizens and staff receive: filled, signed and measured here.

Citizens read Chinese unless they chose English when they submitted; staff messages are in
Chinese only. Free text a person wrote (what material is missing, an extension's reason, an
answer) is the one part of a message that may be cut to keep it within its SMS budget; the
case page always shows it in full.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from services.kernel.config import Settings
from services.kernel.events.contracts import Language
from services.notify.sms import segments


@dataclass(frozen=True)
class Template:
    name: str
    zh: str
    # None: a message to staff, who read Chinese.
    en: str | None = None
    # Parts a filled message may take; step notices must fit in one.
    max_segments: int = 1
    # The variable holding free text, shortened when the message would exceed its budget.
    free_text: str | None = None


@dataclass(frozen=True)
class Bilingual:
    """A value that reads differently in each language, such as a department's name."""

    zh: str
    en: str


Value = str | date | Bilingual

TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "case_received",
            "您的诉求已受理，编号{tracking_no}，查询码{access_code}，我们将于{promised_date}前答复。",
            "Case {tracking_no} received. Access code {access_code}. "
            "We will answer by {promised_date}.",
        ),
        Template(
            "case_answered_directly",
            "您的咨询已当场答复，编号{tracking_no}，查询码{access_code}，可凭此查看答复内容。",
            "Your question was answered at once. Case {tracking_no}, "
            "access code {access_code}: the answer is on the case page.",
        ),
        Template(
            "case_dispatched",
            "您的诉求{tracking_no}已交{department}办理，将于{deadline}前答复。",
            "Case {tracking_no} is now with {department}, who will answer by {deadline}.",
        ),
        Template(
            "case_accepted",
            "您的诉求{tracking_no}已由{department}签收，正在办理。",
            "Case {tracking_no} has been taken on by {department} and is being handled.",
        ),
        Template(
            "case_material_requested",
            "您的诉求{tracking_no}需补充材料：{missing}。请回复本短信或在查询页面补充，补齐后继续办理。",
            "Case {tracking_no} needs more material: {missing}. Reply to this SMS or add it on "
            "the case page; work resumes once it is complete.",
            max_segments=3,
            free_text="missing",
        ),
        Template(
            "case_extended",
            "您的诉求{tracking_no}办理期限延长至{deadline}，原因：{reason}。",
            "The deadline of case {tracking_no} is extended to {deadline}. Reason: {reason}.",
            max_segments=2,
            free_text="reason",
        ),
        Template(
            "case_resolved",
            "您的诉求{tracking_no}已办结，答复见查询页面。请回复1满意、2基本满意、3不满意进行评价。",
            "Case {tracking_no} is resolved, see the answer on the case page. Rate it by reply: "
            "1 satisfied, 2 fair, 3 dissatisfied.",
        ),
        Template(
            "case_revisited",
            "您的诉求{tracking_no}已完成回访，感谢您的评价和监督。",
            "Thank you for your feedback on case {tracking_no}.",
        ),
        Template(
            "case_merged",
            "您的诉求{tracking_no}已并入{into_tracking_no}合并办理，可用原查询码查看进展。",
            "Case {tracking_no} is now handled with case {into_tracking_no}; "
            "your access code still shows its progress.",
        ),
        Template(
            "case_answered",
            "您的诉求{tracking_no}已直接答复：{answer}",
            "Case {tracking_no} has been answered: {answer}",
            max_segments=3,
            free_text="answer",
        ),
        Template(
            "work_order_arrived",
            "{department}新{order_role}单{tracking_no}（{kind}）请签收，{deadline}前办结",
        ),
        Template(
            "work_order_due_soon",
            "{department}工单{tracking_no}将于{deadline}到期，请抓紧办结。",
        ),
        Template(
            "work_order_overdue",
            "{department}工单{tracking_no}期限{deadline}，已超期，请尽快办结。",
        ),
        Template(
            "major_alert",
            "重大事项{tracking_no}：{kind}，{scope}，{priority}，{department}牵头。",
        ),
        # Answers to the citizen's own SMS, and the day's overflow in one message (policy).
        Template(
            "status_reply",
            "您的诉求{tracking_no}{state}。",
            "Case {tracking_no} {state}.",
            max_segments=2,
        ),
        Template(
            "opt_out_confirmed",
            "您已退订诉求进展短信，补正材料等必要通知仍会发送。回复“订阅”可恢复。",
            "You will get no more progress SMS; essential ones, such as requests for material, "
            "still come. Reply START to get them again.",
        ),
        Template(
            "opt_in_confirmed",
            "您已恢复接收诉求进展短信，回复TD可退订。",
            "Progress SMS are back on. Reply STOP to stop them.",
        ),
        Template(
            "digest",
            "昨日另有{count}条诉求通知未逐条发送，涉及{cases}，可凭编号和查询码查询进展。",
            "Yesterday {count} more notices were not sent one by one. They concern {cases}; "
            "see their progress with the case number and access code.",
            max_segments=2,
        ),
    )
}

# How staff messages name a case's kind, scope level, urgency and a work order's role.
KIND_LABELS = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "tip-off": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
SCOPE_LABELS = {
    "society": "全社会",
    "village": "全村",
    "villager-group": "村民小组",
    "family": "家庭",
    "individual": "个人",
}
PRIORITY_LABELS = {"normal": "一般", "urgent": "紧急", "extra-urgent": "特急"}
ORDER_ROLE_LABELS = {"lead": "主办", "co": "会办"}
# A major matter's lead department before the dispatcher names one.
NO_LEAD_YET = "待派单"

# What replaces the end of free text cut to fit, in the message's language.
_CUT = {"zh": "…（详见查询页面）", "en": "... (in full on the case page)"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(day: date, language: Language = "zh") -> str:
    if language == "en":
        return f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{day.month}月{day.day}日"


def case_list(tracking_nos: Sequence[str], named: int, language: Language = "zh") -> str:
    """The first `named` cases as one phrase, with a count when there are more."""
    shown = list(tracking_nos[:named])
    beyond = len(tracking_nos) - len(shown)
    if language == "zh":
        return "、".join(shown) + (f"等{len(tracking_nos)}件" if beyond else "")
    if beyond:
        return ", ".join(shown) + f" and {beyond} more"
    if len(shown) < 2:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def signature_for(settings: Settings, language: str) -> str:
    return settings.sms_signature_en if language == "en" else settings.sms_signature


@dataclass(frozen=True)
class RenderedMessage:
    template: str
    text: str
    segments: int


def variables(text: str) -> set[str]:
    """The names a template fills in."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def render(
    name: str, signature: str, language: Language = "zh", **values: Value
) -> RenderedMessage:
    """The exact text sent: signature first, as carriers in China require.

    English falls back to Chinese for staff templates; free text is cut to fit the budget.
    """
    template = TEMPLATES[name]
    chosen: Language = "en" if language == "en" and template.en is not None else "zh"
    text = template.en if chosen == "en" and template.en is not None else template.zh
    filled = {key: _as_text(value, chosen) for key, value in values.items()}
    message = signature + text.format(**filled)
    if template.free_text is not None and segments(message) > template.max_segments:
        message = _fit(signature + text, filled, template.free_text, template.max_segments, chosen)
    return RenderedMessage(name, message, segments(message))


def _as_text(value: Value, language: Language) -> str:
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, Bilingual):
        return value.en if language == "en" else value.zh
    # One line: a person's free text may hold line breaks and runs of spaces.
    return " ".join(value.split())


def _fit(text: str, values: Mapping[str, str], free: str, budget: int, language: Language) -> str:
    """`text` filled with the longest start of `values[free]` that keeps within `budget`."""
    whole = values[free]
    low, high = 0, len(whole)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = text.format(**{**values, free: whole[:middle].rstrip() + _CUT[language]})
        if segments(candidate) <= budget:
            low = middle
        else:
            high = middle - 1
    return text.format(**{**values, free: whole[:low].rstrip() + _CUT[language]})


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
