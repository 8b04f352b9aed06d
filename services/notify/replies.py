"""A citizen's SMS reply (MO), taken in once and acted on.

"TD"/"退订"/"STOP" opts the number out of non-essential messages ("订阅"/"START" back in);
"JD"/"进度" is answered with the case's status; "1"/"2"/"3" after resolution is a rating;
anything else is the citizen's message for the case. Ratings and messages go to intake as
`citizen.replied`; the number never leaves notify.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from prometheus_client import Counter
from sqlalchemy import delete, select

from services.kernel.events.contracts import CitizenReplied, Language
from services.kernel.sealing import keyed_digest, sealer_for
from services.kernel.work import Work
from services.notify import policy
from services.notify.gateways import InboundSms
from services.notify.models import CaseContact, CaseProgress, Department, Message, OptOut, Reply
from services.notify.scheduling import schedule
from services.notify.sealed import RECIPIENT_DIGEST, SEALED_RECIPIENT, Address, sms_address
from services.notify.task_names import SEND_MESSAGES
from services.notify.templates import RenderedMessage, format_date, render, signature_for

log = logging.getLogger(__name__)

REPLIES = Counter(
    "minqing_sms_replies_total",
    "Citizens' SMS replies taken in, by what they meant",
    ["meaning"],
)
_REPLIES = uuid.UUID("0f4bb4a4-8f55-4f0e-a3c7-5a8e3f4a9b12")
_TRACKING_NO = re.compile(r"\d{8}-\d{6}")


# --- the status a citizen reads --------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    status: str
    # In the language of the answer; None while no department has the case, or when the
    # catalogue gives it no name in that language.
    department_name: str | None = None
    deadline: date | None = None
    into_tracking_no: str | None = None


def state_phrase(progress: Progress, language: Language = "zh") -> str:
    """What follows "您的诉求<编号>" (or "Case <number>") in the answer to "JD"."""
    if language == "en":
        return _english_state(progress)
    due = f"，将于{format_date(progress.deadline)}前答复" if progress.deadline else ""
    department = progress.department_name or "承办部门"
    phrases = {
        "received": "已受理，正在分派办理部门",
        "dispatched": f"已交{department}办理{due}",
        "handling": f"正由{department}办理{due}",
        "awaiting_citizen": "等待您补充材料，补充后继续办理",
        "resolved": f"已由{department}办结，回复1满意、2基本满意、3不满意进行评价",
        "rated": "已办结并已评价，感谢您的反馈",
        "closed": "已办结",
        "answered": "已直接答复",
        "merged": f"已并入{progress.into_tracking_no or '另一诉求'}合并办理",
    }
    return phrases.get(progress.status, "正在办理")


def _english_state(progress: Progress) -> str:
    due = (
        f", who will answer by {format_date(progress.deadline, 'en')}" if progress.deadline else ""
    )
    department = progress.department_name or "the department in charge"
    joined = f"case {progress.into_tracking_no}" if progress.into_tracking_no else "another case"
    phrases = {
        "received": "has been received and is being passed to a department",
        "dispatched": f"is now with {department}{due}",
        "handling": f"is being handled by {department}{due}",
        "awaiting_citizen": "waits for the material you were asked for; work resumes once it is in",
        "resolved": f"has been resolved by {department}. Rate it by reply: "
        "1 satisfied, 2 fair, 3 dissatisfied",
        "rated": "is resolved and rated. Thank you for your feedback",
        "closed": "is closed",
        "answered": "has been answered",
        "merged": f"is now handled with {joined}",
    }
    return phrases.get(progress.status, "is being handled")


# --- taking a reply in ------------------------------------------------------------------------


def take_reply(work: Work, reply: InboundSms) -> None:
    """Act on the citizen's SMS once, however often the gateway hands it over."""
    sender = policy.national_number(reply.sender)
    reply_id = uuid.uuid5(
        _REPLIES, reply.gateway_ref or f"{sender}|{reply.received_at.isoformat()}|{reply.text}"
    )
    session = work.session
    if session.get(Reply, reply_id) is not None:
        return
    secret_key = work.settings.secret_key
    # A tip-off reporter was messaged under a digest of the number, everyone else under it.
    forms = (sender, "sealed:" + keyed_digest(secret_key, RECIPIENT_DIGEST, sender))
    meaning = policy.meaning_of(reply.text)
    known = _cases_of(work, forms)
    case, recipient = _case_meant(known, meaning, reply.text) if known else (None, sender)
    address = (
        Address(recipient, sealer_for(secret_key, SEALED_RECIPIENT).seal(sender))
        if recipient.startswith("sealed:")
        else Address(recipient)
    )
    session.add(
        Reply(
            id=reply_id,
            recipient=recipient,
            case_id=case.case_id if case else None,
            meaning=meaning.kind,
            received_at=reply.received_at,
        )
    )
    work.after_commit(REPLIES.labels(meaning.kind).inc)
    language = _language_of(work, case, recipient)
    signature = signature_for(work.settings, language)
    if meaning.kind == "opt-out":
        session.execute(delete(OptOut).where(OptOut.recipient.in_(forms)))
        session.add_all(OptOut(recipient=f, opted_out_at=reply.received_at) for f in forms)
        answer = render(policy.OPT_OUT_CONFIRMED, signature, language)
        _answer(work, reply_id, address, case, answer)
    elif meaning.kind == "opt-in":
        session.execute(delete(OptOut).where(OptOut.recipient.in_(forms)))
        _answer(work, reply_id, address, case, render(policy.OPT_IN_CONFIRMED, signature, language))
    elif case is None:
        log.info("a reply from a number with no case", extra={"meaning": meaning.kind})
    elif meaning.kind == "status":
        answer = render(
            policy.STATUS_REPLY,
            signature,
            language,
            tracking_no=case.tracking_no,
            state=state_phrase(_progress(work, case, language), language),
        )
        _answer(work, reply_id, address, case, answer)
    else:
        rating = meaning.rating if case.status == "resolved" else None
        work.publish(
            CitizenReplied(
                case_id=case.case_id,
                tracking_no=case.tracking_no,
                meaning="rating" if rating else "message",
                rating=rating,
                text=reply.text,
                received_at=reply.received_at,
            ),
            case_id=case.case_id,
        )


def _cases_of(work: Work, forms: Sequence[str]) -> list[tuple[str, CaseProgress]]:
    """The cases the number was messaged about, by the form it was messaged under; latest first."""
    found = work.session.execute(
        select(Message.recipient, CaseProgress)
        .join(CaseProgress, CaseProgress.case_id == Message.case_id)
        .where(Message.recipient.in_(forms))
        .distinct()
    ).tuples()
    return sorted(found, key=lambda row: row[1].updated_at, reverse=True)


def _case_meant(
    known: list[tuple[str, CaseProgress]], meaning: policy.Meaning, text: str
) -> tuple[CaseProgress, str]:
    """The case a reply is about, and the form to answer under.

    A tracking number in the text names it; a rating goes to the latest case awaiting one;
    anything else to the case the citizen heard of last.
    """
    named = {progress.tracking_no: (progress, form) for form, progress in known}
    for tracking_no in _TRACKING_NO.findall(text):
        if tracking_no in named:
            progress, form = named[tracking_no]
            return progress, form
    if meaning.kind == "rating":
        for form, progress in known:
            if progress.status == "resolved":
                return progress, form
    form, progress = known[0]
    return progress, form


def _language_of(work: Work, case: CaseProgress | None, recipient: str) -> Language:
    """The language the case's citizen chose, when it is they who wrote; Chinese otherwise.

    Staff are texted about a case too, and read Chinese whatever its citizen chose.
    """
    contact = work.session.get(CaseContact, case.case_id) if case is not None else None
    if contact is None or contact.language != "en":
        return "zh"
    address = sms_address(contact, work.settings.secret_key)
    return "en" if address is not None and address.recipient == recipient else "zh"


def _progress(work: Work, case: CaseProgress, language: Language) -> Progress:
    department = case.department_name
    if language == "en" and department is not None:
        # Events name the department in Chinese; the catalogue knows its English name. Without
        # one, the answer names no department: a Chinese name would cost the SMS its GSM-7.
        department = work.session.scalar(
            select(Department.name_en).where(Department.name == department).limit(1)
        )
    return Progress(
        status=case.status,
        department_name=department,
        deadline=case.deadline,
        into_tracking_no=case.into_tracking_no,
    )


def _answer(
    work: Work,
    reply_id: uuid.UUID,
    address: Address,
    case: CaseProgress | None,
    message: RenderedMessage,
) -> None:
    record = Message.queued(
        # One answer per reply: the reply's id stands in for an event's.
        event_id=reply_id,
        recipient=address.recipient,
        sealed_recipient=address.sealed,
        template=message.template,
        channel="sms",
        case_id=case.case_id if case else None,
        tracking_no=case.tracking_no if case else None,
        text=message.text,
        segments=message.segments,
    )
    if schedule(work, record):
        work.enqueue(SEND_MESSAGES, str(record.id))
