"""Taking in one email, however it came: kept raw, then a new case, a reply to one, or neither.

A message is taken once (by its Message-ID, or its bytes' hash): a second delivery of it, over
SMTP or IMAP, changes nothing. `take` returns only once what it decided is committed, so the
SMTP receiver answers 250 and the IMAP poller flags the message only after that.
"""

from __future__ import annotations

import base64
import functools
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

from prometheus_client import Counter
from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from services.intake import domain
from services.intake.channels.email import rules
from services.intake.channels.email.message import ParsedEmail
from services.intake.channels.email.parsing import parse_email
from services.intake.models import Case, EmailMessage
from services.intake.submissions import Submission, accept, open_contact
from services.intake.supplements import supplement
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.events.contracts import (
    ACKNOWLEDGEMENT_RECIPIENT,
    Contact,
    EmailCaseOpened,
    Language,
)
from services.kernel.language import InvalidValue
from services.kernel.sealing import sealer_for
from services.kernel.work import Work, WorkOpener

log = logging.getLogger(__name__)

Via = Literal["smtp", "imap"]
Outcome = Literal["case", "reply", "automated", "refused", "held", "duplicate"]
# The sealing purpose of a tip-off's raw message: it names the reporter.
SEALED_MESSAGE = "email-message"

EMAILS_TAKEN = Counter(
    "minqing_emails_received_total",
    "Emails taken in, by how they came and what became of them",
    ["via", "outcome"],
)


@dataclass(frozen=True)
class Taken:
    """What became of a message; `tracking_no` is the case it opened or joined."""

    outcome: Outcome
    tracking_no: str | None = None


@dataclass(frozen=True)
class _Plan:
    duplicate: bool
    reply_to_case: uuid.UUID | None


class _AlreadyTaken(Exception):
    """Another delivery of the same message committed first; this one rolls back."""


def take(
    open_work: WorkOpener,
    settings: Settings,
    raw: bytes,
    via: Via,
    envelope_sender: str | None = None,
) -> Taken:
    """Record one message and what follows from it; returns once it is committed.

    Raises only when the database cannot be reached (OperationalError): the sender should try
    again later. Anything else that goes wrong still keeps the raw message ("held").
    """
    parsed = parse_email(raw)
    key = rules.message_key(parsed.message_id, raw)
    try:
        plan = _look_up(open_work, settings, parsed, key) if _may_be_reply(parsed) else _NEW
        if plan.duplicate:
            taken = Taken("duplicate")
        else:
            with open_work() as work:
                taken = _record(work, settings, parsed, key, raw, via, envelope_sender, plan)
    except _AlreadyTaken:
        taken = Taken("duplicate")
    except OperationalError:
        raise
    except Exception:
        log.exception("email could not be handled; kept as it came", extra={"via": via})
        taken = _hold(open_work, key, parsed, raw, via)
    EMAILS_TAKEN.labels(via, taken.outcome).inc()
    log.info(
        "email taken",
        extra={"via": via, "outcome": taken.outcome, "tracking_no": taken.tracking_no},
    )
    return taken


_NEW = _Plan(duplicate=False, reply_to_case=None)


def _may_be_reply(parsed: ParsedEmail) -> bool:
    """Whether the message points at an earlier one. Mail that does not needs no reads first:
    its own transaction finds a repeat of it (see _keep), at the cost of a rolled-back case."""
    return bool(parsed.in_reply_to or parsed.references or rules.tracking_no_in(parsed.subject))


def _look_up(open_work: WorkOpener, settings: Settings, parsed: ParsedEmail, key: str) -> _Plan:
    """Reads in a transaction of their own: on SQLite, a new case must take its tracking number
    before its own transaction has touched the database (see submissions.next_tracking_no)."""
    with open_work() as work:
        session = work.session
        if session.scalar(select(EmailMessage.id).where(EmailMessage.message_key == key)):
            return _Plan(duplicate=True, reply_to_case=None)
        if _automated(parsed, settings) is not None:
            return _Plan(duplicate=False, reply_to_case=None)
        ids = rules.thread_ids(parsed.in_reply_to, parsed.references)
        if ids:
            rows = session.execute(
                select(
                    EmailMessage.message_id, EmailMessage.acknowledgement_id, EmailMessage.case_id
                ).where(
                    or_(EmailMessage.message_id.in_(ids), EmailMessage.acknowledgement_id.in_(ids)),
                    EmailMessage.case_id.is_not(None),
                )
            ).all()
            cases = {
                i: row.case_id for row in rows for i in (row.message_id, row.acknowledgement_id)
            }
            for thread_id in ids:
                if thread_id in cases:
                    return _Plan(duplicate=False, reply_to_case=cases[thread_id])
        tracking_no = rules.tracking_no_in(parsed.subject)
        if tracking_no is not None and parsed.sender_address:
            case = session.scalars(select(Case).where(Case.tracking_no == tracking_no)).first()
            if case is not None and _contact_email(case, settings) == parsed.sender_address:
                return _Plan(duplicate=False, reply_to_case=case.id)
        return _Plan(duplicate=False, reply_to_case=None)


def _contact_email(case: Case, settings: Settings) -> str | None:
    if case.sealed_contact is not None:
        email = open_contact(case.sealed_contact, settings.secret_key).email
    else:
        email = case.contact_email
    return email.lower() if email else None


def _automated(parsed: ParsedEmail, settings: Settings) -> str | None:
    """Why no case may be made of the message, if it is a robot's: mail from our own mailbox
    coming back is a loop even when nothing in it says so."""
    if parsed.automated is not None:
        return parsed.automated
    if parsed.sender_address in settings.mail_addresses:
        return "loop"
    return None


def _record(
    work: Work,
    settings: Settings,
    parsed: ParsedEmail,
    key: str,
    raw: bytes,
    via: Via,
    envelope_sender: str | None,
    plan: _Plan,
) -> Taken:
    automated = _automated(parsed, settings)
    if automated is not None:
        _keep(work, key, parsed, raw, via, outcome="automated", reason=automated)
        return Taken("automated")
    if plan.reply_to_case is not None:
        return _reply(work, settings, parsed, key, raw, via, plan.reply_to_case)
    address = _usable_address(parsed.sender_address) or _usable_address(envelope_sender)
    if address is None:
        _keep(work, key, parsed, raw, via, outcome="refused", reason="no sender address to answer")
        return Taken("refused")
    if not (parsed.subject.strip() or parsed.text.strip() or parsed.attachments):
        _keep(work, key, parsed, raw, via, outcome="refused", reason="empty message")
        return Taken("refused")
    return _new_case(work, settings, parsed, key, raw, via, address)


def _usable_address(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return domain.normalise_email(address).lower()
    except InvalidValue:
        return None


def _new_case(
    work: Work,
    settings: Settings,
    parsed: ParsedEmail,
    key: str,
    raw: bytes,
    via: Via,
    address: str,
) -> Taken:
    kind, subject = rules.kind_of(parsed.subject)
    language = rules.language_of(f"{parsed.subject}\n{parsed.text}")
    files, notes = rules.choose_files(parsed.attachments, language)
    submission = Submission(
        channel="email",
        kind=kind,
        description=rules.description(subject, parsed.text, notes),
        category=None,
        location=None,
        contact=Contact(
            name=(parsed.sender_name or "").strip()[:50] or None,
            phone=rules.mobile_in(parsed.text),
            email=address,
        ),
        reference=key,
        language=language,
        files=files,
    )
    # The message is taken once by its key in `email_messages` (see _keep): a delivery that
    # loses that race rolls back with this case. `accept` first takes the tracking number, which
    # on SQLite must come before this transaction touches anything.
    receipt = accept(work, submission, settings.secret_key)
    acknowledgement_id = f"{receipt.tracking_no}.{secrets.token_hex(8)}@{_mail_domain(settings)}"
    _keep(
        work,
        key,
        parsed,
        raw,
        via,
        outcome="case",
        reason="; ".join(notes) or None,
        case_id=receipt.case_id,
        acknowledgement_id=acknowledgement_id,
        sealed=submission.sealed,
    )
    work.publish(
        EmailCaseOpened(
            case_id=receipt.case_id,
            tracking_no=receipt.tracking_no,
            access_code=receipt.access_code,
            promised_date=receipt.promised_date,
            language=language,
            sealed_to=sealer_for(settings.secret_key, ACKNOWLEDGEMENT_RECIPIENT).seal(address),
            subject=parsed.subject,
            in_reply_to=parsed.message_id,
            references=(*parsed.references, *([parsed.message_id] if parsed.message_id else [])),
            acknowledgement_id=acknowledgement_id,
        ),
        case_id=receipt.case_id,
    )
    return Taken("case", receipt.tracking_no)


def _mail_domain(settings: Settings) -> str:
    return settings.mail_addresses[0].rpartition("@")[2]


def _reply(
    work: Work,
    settings: Settings,
    parsed: ParsedEmail,
    key: str,
    raw: bytes,
    via: Via,
    case_id: uuid.UUID,
) -> Taken:
    case = work.session.get_one(Case, case_id)
    language = cast(Language, case.language)
    files, notes = rules.choose_files(parsed.attachments, language)
    text = "\n\n".join([rules.trim_quoted(parsed.text), *notes]).strip()
    _keep(
        work,
        key,
        parsed,
        raw,
        via,
        outcome="reply",
        reason=None if text or files else "nothing to add",
        case_id=case.id,
        sealed=case.sealed_contact is not None,
    )
    if text or files:
        supplement(work, case, "email", text, files)
    return Taken("reply", case.tracking_no)


def _keep(
    work: Work,
    key: str,
    parsed: ParsedEmail,
    raw: bytes,
    via: Via,
    *,
    outcome: Outcome,
    reason: str | None = None,
    case_id: uuid.UUID | None = None,
    acknowledgement_id: str | None = None,
    sealed: bool = False,
) -> None:
    """Keep the message as it came; a delivery of it that committed first rolls this one back."""
    session = work.session
    kept = session.execute(
        _keep_statement(session.get_bind().dialect.name),
        {
            "id": uuid.uuid4(),
            "message_key": key,
            "message_id": rules.stored_id(parsed.message_id) if parsed.message_id else None,
            "sender": None if sealed else (parsed.sender_address or "")[:254] or None,
            "subject": parsed.subject or None,
            "received_via": via,
            "case_id": case_id,
            "acknowledgement_id": acknowledgement_id,
            "outcome": outcome,
            "reason": reason[:500] if reason else None,
            "defects": "\n".join(parsed.defects) or None,
            "raw": _sealed(raw, work.settings.secret_key) if sealed else raw,
            "sealed": sealed,
            "received_at": utcnow(),
        },
    ).first()
    if kept is None:
        raise _AlreadyTaken()


@functools.cache
def _keep_statement(dialect: str) -> Any:
    """Built once per database kind: a statement made per message would be hashed every time."""
    table = cast(Table, EmailMessage.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.message_key])
        .returning(table.c.id)
    )


def _sealed(raw: bytes, secret_key: str) -> bytes:
    sealer = sealer_for(secret_key, SEALED_MESSAGE)
    return sealer.seal(base64.b64encode(raw).decode("ascii")).encode("ascii")


def _hold(open_work: WorkOpener, key: str, parsed: ParsedEmail, raw: bytes, via: Via) -> Taken:
    """Keep the raw message of mail that could not be handled, for someone to look at."""
    sealed = rules.kind_of(parsed.subject)[0] == "tip-off"
    try:
        with open_work() as work:
            _keep(
                work,
                key,
                parsed,
                raw,
                via,
                outcome="held",
                reason="could not be handled",
                sealed=sealed,
            )
    except _AlreadyTaken:
        return Taken("duplicate")
    return Taken("held")
