"""Notify turns the events a citizen must hear about into messages, one per recipient and step."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from pydantic import TypeAdapter
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import (
    LIAISON_CONTACTS,
    CaseAccepted,
    CaseAnswered,
    CaseAssigned,
    CaseCoAssigned,
    CaseDeadlineNear,
    CaseExtensionDecided,
    CaseExtensionRequested,
    CaseMajorAlert,
    CaseMaterialRequested,
    CaseMerged,
    CaseOverdue,
    CaseResolved,
    CaseRevisited,
    CaseSubmitted,
    CatalogueContactsPublished,
    EmailCaseOpened,
    Language,
    LiaisonContact,
)
from services.kernel.sealing import sealer_for
from services.kernel.work import Work
from services.kernel.workdays import local_date
from services.notify.by_email import email_of, email_recipient, queue_email, record_email
from services.notify.models import (
    CaseContact,
    CaseMerge,
    Department,
    ExtensionRequest,
    LiaisonOfficer,
    Message,
)
from services.notify.scheduling import prefetch_limits, schedule
from services.notify.sealed import Address, sms_address
from services.notify.task_names import SEND_MESSAGES
from services.notify.templates import (
    EMAIL_ACKNOWLEDGEMENT,
    KIND_LABELS,
    NO_LEAD_YET,
    ORDER_ROLE_LABELS,
    PRIORITY_LABELS,
    SCOPE_LABELS,
    Bilingual,
    RenderedMessage,
    Value,
    format_date,
    render,
    render_email,
    signature_for,
)

subscriptions = Subscriptions("notify")


# Where a batch's preload leaves the followers of its cases (see `followers`).
_FOLLOWERS = "notify.followers"


def contacts_of(
    session: Session, events: Sequence[CaseSubmitted | CaseAssigned]
) -> list[CaseContact]:
    """The batch's contacts, the followers of its cases, and their numbers' limits (opt-outs,
    today's counts): a few queries for the whole batch."""
    wanted = {e.case_id for e in events if isinstance(e, CaseAssigned)}
    contacts: list[CaseContact] = []
    if wanted:
        contacts = list(session.scalars(select(CaseContact).where(CaseContact.case_id.in_(wanted))))
        found: dict[uuid.UUID, list[CaseContact]] = {case_id: [] for case_id in wanted}
        for into_case_id, follower in session.execute(_followers_of(wanted)).tuples():
            found[into_case_id].append(follower)
        session.info[_FOLLOWERS] = found
        contacts += [f for listed in found.values() for f in listed]
    # Sealed reporters' numbers are left to `schedule`: their key needs the settings.
    numbers = {c.phone for c in contacts if c.phone} | {
        e.contact.phone for e in events if isinstance(e, CaseSubmitted) and e.contact.phone
    }
    prefetch_limits(session, numbers, local_date(utcnow()))
    return contacts


@subscriptions.subscribe(CaseSubmitted, CaseAssigned, preload=contacts_of)
def citizen_messages(event: CaseSubmitted | CaseAssigned, work: Work) -> None:
    if isinstance(event, CaseSubmitted):
        contact = remember_contact(work, event)
        # A consultation answered on the call is closed already: no promise of an answer.
        name = "case_answered_directly" if event.answered_directly else "case_received"
        tell_citizen(
            work,
            contact,
            name,
            tracking_no=event.tracking_no,
            access_code=event.access_code,
            promised_date=event.promised_date,
        )
        return
    tell_citizens(
        work,
        event.case_id,
        "case_dispatched",
        tracking_no=event.tracking_no,
        department=department_name(work, event.department_code, event.department_name),
        deadline=event.deadline,
    )


def remember_contact(work: Work, event: CaseSubmitted) -> CaseContact:
    # A case is submitted once and the inbox runs this once per event, so the row is new.
    contact = CaseContact(
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        phone=event.contact.phone,
        email=event.contact.email,
        sealed_contact=event.sealed_contact,
        language=event.language,
    )
    work.session.add(contact)
    return contact


def tell_citizen(
    work: Work, contact: CaseContact, name: str, *, skip: set[str] | None = None, **values: Value
) -> None:
    """Queue template `name` for one citizen, in the language they chose."""
    language: Language = "en" if contact.language == "en" else "zh"
    message = render(name, signature_for(work.settings, language), language, **values)
    queue_sms(work, contact, message, skip=skip)


def tell_citizens(work: Work, case_id: uuid.UUID, name: str, **values: Value) -> None:
    """Queue template `name` for the case's citizen and the citizens of cases merged into it.

    One event texts each number once, however many of the followed cases are theirs.
    """
    contact = work.session.get(CaseContact, case_id)
    if contact is None:
        raise RetryLater(f"case {case_id} not yet known to notify")
    sent: set[str] = set()
    for recipient in (contact, *followers(work, case_id)):
        tell_citizen(work, recipient, name, skip=sent, **values)


def queue_sms(
    work: Work, contact: CaseContact, message: RenderedMessage, *, skip: set[str] | None = None
) -> None:
    """Queue `message` for the case's contact: by SMS, or by email to a contact who gave an
    email and no phone."""
    address = sms_address(contact, work.settings.secret_key)
    if address is None:
        email_instead(work, contact, message, skip=skip)
        return
    record_sms(work, address, message, contact.case_id, contact.tracking_no, skip=skip)


def record_sms(
    work: Work,
    address: Address,
    message: RenderedMessage,
    case_id: uuid.UUID,
    tracking_no: str,
    *,
    skip: set[str] | None = None,
) -> None:
    """Record the message (once per event, recipient and template) and queue its sending.

    Nothing for a recipient in `skip`, which then gains it.
    """
    assert work.envelope is not None
    if skip is not None:
        if address.recipient in skip:
            return
        skip.add(address.recipient)
    # The inbox runs this once per event; the unique constraint backs it up.
    record = Message.queued(
        event_id=work.envelope.id,
        recipient=address.recipient,
        sealed_recipient=address.sealed,
        template=message.template,
        channel="sms",
        case_id=case_id,
        tracking_no=tracking_no,
        text=message.text,
        segments=message.segments,
    )
    # Quiet hours, the daily cap and opt-outs may hold it back (see policy).
    if schedule(work, record):
        work.enqueue(SEND_MESSAGES, str(record.id))


def email_instead(
    work: Work, contact: CaseContact, message: RenderedMessage, *, skip: set[str] | None
) -> None:
    """The step notice by email, for a citizen who gave an email and no phone."""
    assert work.envelope is not None
    address = email_of(contact, work.settings.secret_key)
    if address is None:
        return
    recipient = email_recipient(work.settings.secret_key, address)
    if skip is not None:
        if recipient in skip:
            return
        skip.add(recipient)
    queue_email(
        work,
        event_id=work.envelope.id,
        contact=contact,
        address=address,
        template=message.template,
        text=message.text,
    )


def followers(work: Work, case_id: uuid.UUID) -> list[CaseContact]:
    """The contacts of the cases merged into `case_id`; known already when a preload found them."""
    preloaded: dict[uuid.UUID, list[CaseContact]] = work.session.info.get(_FOLLOWERS, {})
    if case_id in preloaded:
        return preloaded[case_id]
    # Without a flush: this batch's pending messages are no business of the query.
    with work.session.no_autoflush:
        return [contact for _, contact in work.session.execute(_followers_of({case_id})).tuples()]


def _followers_of(case_ids: set[uuid.UUID]) -> Select[uuid.UUID, CaseContact]:
    return (
        select(CaseMerge.into_case_id, CaseContact)
        .join(CaseMerge, CaseMerge.case_id == CaseContact.case_id)
        .where(CaseMerge.into_case_id.in_(case_ids))
        .order_by(CaseContact.tracking_no)
    )


@subscriptions.subscribe(CaseMerged)
def merged_case_messages(event: CaseMerged, work: Work) -> None:
    """Tell the merged case's citizen which case they now follow, and follow it for them.

    Citizens of cases merged into this one before follow the new case too, and hear so.
    """
    assert work.envelope is not None
    contact = work.session.get(CaseContact, event.case_id)
    if contact is None:
        raise RetryLater(f"case {event.case_id} not yet known to notify")
    earlier = list(
        work.session.scalars(select(CaseMerge).where(CaseMerge.into_case_id == event.case_id))
    )
    sent: set[str] = set()
    for joined in (contact, *followers(work, event.case_id)):
        tell_citizen(
            work,
            joined,
            "case_merged",
            skip=sent,
            tracking_no=joined.tracking_no,
            into_tracking_no=event.into_tracking_no,
        )
    for merge in earlier:
        merge.into_case_id = event.into_case_id
    work.session.add(
        CaseMerge(
            case_id=event.case_id,
            into_case_id=event.into_case_id,
            merged_at=work.envelope.occurred_at,
        )
    )


# Intake knows its own acknowledgements coming back by this header (channels/email/message.py).
ACKNOWLEDGEMENT_HEADER = "X-Minqing-Acknowledgement"


@subscriptions.subscribe(EmailCaseOpened)
def email_acknowledgement(event: EmailCaseOpened, work: Work) -> None:
    """Answer the citizen's email in its own thread with the case's tracking number."""
    assert work.envelope is not None
    settings = work.settings
    promised = (
        format_date(event.promised_date)
        if event.language == "zh"
        else f"{event.promised_date.day} {event.promised_date:%B %Y}"
    )
    subject, text = render_email(
        event.language,
        settings.sms_signature.strip("【】[] "),
        subject=event.subject,
        tracking_no=event.tracking_no,
        access_code=event.access_code,
        promised_date=promised,
    )
    headers = {
        "Message-ID": f"<{event.acknowledgement_id}>",
        "Auto-Submitted": "auto-replied",
        ACKNOWLEDGEMENT_HEADER: event.tracking_no,
    }
    if event.in_reply_to:
        headers["In-Reply-To"] = f"<{event.in_reply_to}>"
    if event.references:
        headers["References"] = " ".join(f"<{i}>" for i in event.references)
    record_email(
        work,
        Message.queued(
            event_id=work.envelope.id,
            # The address stays sealed in the envelope: it may be a tip-off reporter's.
            recipient="(sealed)",
            template=EMAIL_ACKNOWLEDGEMENT,
            channel="email",
            case_id=event.case_id,
            tracking_no=event.tracking_no,
            text=text,
        ),
        sealed_to=event.sealed_to,
        subject=subject,
        headers=headers,
    )


# Steps of a case's work order the citizen hears about; a co-handling department's steps are
# the lead department's business, not the citizen's.
CitizenStep = (
    CaseAccepted
    | CaseMaterialRequested
    | CaseExtensionRequested
    | CaseExtensionDecided
    | CaseResolved
    | CaseRevisited
    | CaseAnswered
)


@subscriptions.subscribe(
    CaseAccepted,
    CaseMaterialRequested,
    CaseExtensionRequested,
    CaseExtensionDecided,
    CaseResolved,
    CaseRevisited,
    CaseAnswered,
)
def citizen_step_messages(event: CitizenStep, work: Work) -> None:
    if isinstance(event, CaseResolved):
        tell_citizens(work, event.case_id, "case_resolved", tracking_no=event.tracking_no)
        return
    if event.order_role != "lead":
        return
    case, tracking_no = event.case_id, event.tracking_no
    if isinstance(event, CaseAccepted):
        department = department_name(work, event.department_code)
        tell_citizens(work, case, "case_accepted", tracking_no=tracking_no, department=department)
    elif isinstance(event, CaseMaterialRequested):
        # The department lists everything missing at once: one message, never one per item.
        missing = event.reason or ""
        tell_citizens(
            work, case, "case_material_requested", tracking_no=tracking_no, missing=missing
        )
    elif isinstance(event, CaseExtensionRequested):
        remember_extension_reason(work, event)
    elif isinstance(event, CaseExtensionDecided):
        reason = extension_reason(work, event)
        # A refusal leaves the date the citizen was told in force: nothing to tell them.
        if event.approved:
            tell_citizens(
                work,
                case,
                "case_extended",
                tracking_no=tracking_no,
                deadline=event.deadline,
                reason=reason,
            )
    elif isinstance(event, CaseRevisited):
        tell_citizens(work, case, "case_revisited", tracking_no=tracking_no)
    else:
        tell_citizens(
            work, case, "case_answered", tracking_no=tracking_no, answer=event.reason or ""
        )


def remember_extension_reason(work: Work, event: CaseExtensionRequested) -> None:
    request = work.session.get(ExtensionRequest, event.work_order_id)
    if request is None:
        request = ExtensionRequest(work_order_id=event.work_order_id)
        work.session.add(request)
    request.reason = event.reason or ""


def extension_reason(work: Work, event: CaseExtensionDecided) -> str:
    """The department's reasons, as it gave them when asking, else the dispatcher's note.

    The request is decided, so its reasons are no longer kept.
    """
    request = work.session.get(ExtensionRequest, event.work_order_id)
    if request is not None:
        work.session.delete(request)
        if request.reason:
            return request.reason
    return event.reason or ""


def department_name(work: Work, code: str | None, fallback: str | None = None) -> Bilingual:
    """How messages name the department: as the catalogue names it in each language."""
    department = work.session.get(Department, code) if code is not None else None
    if department is None:
        known = fallback or code or NO_LEAD_YET
        return Bilingual(known, known)
    return Bilingual(department.name, department.name_en)


# Messages to staff: liaison officers, supervisors and leaders. Their bodies name the case by its
# tracking number and kind only, never by its description or contact: a tip-off's reporter stays
# unknown to the department the tip-off is about.


@subscriptions.subscribe(CaseAssigned, CaseCoAssigned)
def work_order_arrivals(event: CaseAssigned | CaseCoAssigned, work: Work) -> None:
    """Tell the department's liaison officers that a work order waits to be signed for."""
    role = "co" if isinstance(event, CaseCoAssigned) else "lead"
    tell_staff(
        work,
        liaison_phones(work, event.department_code),
        event.case_id,
        event.tracking_no,
        "work_order_arrived",
        department=department_name(work, event.department_code).zh,
        order_role=ORDER_ROLE_LABELS[role],
        kind=KIND_LABELS[event.kind],
        deadline=event.deadline,
    )


@subscriptions.subscribe(CaseDeadlineNear, CaseOverdue)
def deadline_warnings(event: CaseDeadlineNear | CaseOverdue, work: Work) -> None:
    """Warn the department's liaison officers and the supervisors of a work order's deadline."""
    overdue = isinstance(event, CaseOverdue)
    tell_staff(
        work,
        [*liaison_phones(work, event.department_code), *work.settings.supervisor_phones],
        event.case_id,
        event.tracking_no,
        "work_order_overdue" if overdue else "work_order_due_soon",
        department=department_name(work, event.department_code).zh,
        deadline=event.deadline,
    )


@subscriptions.subscribe(CaseMajorAlert)
def major_matter_alerts(event: CaseMajorAlert, work: Work) -> None:
    """Alert the leaders to a major matter at once (重大事项快速响应)."""
    tell_staff(
        work,
        work.settings.leader_phones,
        event.case_id,
        event.tracking_no,
        "major_alert",
        kind=KIND_LABELS[event.kind],
        scope=SCOPE_LABELS[event.scope_level],
        priority=PRIORITY_LABELS[event.priority],
        department=department_name(work, event.lead_department_code).zh,
    )


def tell_staff(
    work: Work,
    phones: Iterable[str],
    case_id: uuid.UUID,
    tracking_no: str,
    name: str,
    **values: Value,
) -> None:
    message = render(name, work.settings.sms_signature, "zh", tracking_no=tracking_no, **values)
    sent: set[str] = set()
    for phone in phones:
        record_sms(work, Address(phone), message, case_id, tracking_no, skip=sent)


def liaison_phones(work: Work, department_code: str | None) -> list[str]:
    """The department's liaison officers' phones, as the catalogue last published them."""
    if department_code is None:
        return []
    if not work.session.scalar(select(func.count()).select_from(Department)):
        # Routing publishes the catalogue's contacts when it starts: they are on their way.
        raise RetryLater("the catalogue's contacts are not yet known to notify")
    return list(
        work.session.scalars(
            select(LiaisonOfficer.phone)
            .where(LiaisonOfficer.department_code == department_code)
            .order_by(LiaisonOfficer.id)
        )
    )


_LIAISONS = TypeAdapter(tuple[LiaisonContact, ...])


@subscriptions.subscribe(CatalogueContactsPublished)
def learn_contacts(event: CatalogueContactsPublished, work: Work) -> None:
    """Keep the departments' names and liaison officers as the newest catalogue has them."""
    assert work.envelope is not None
    published_at = work.envelope.occurred_at
    latest = work.session.scalar(select(func.max(Department.published_at)))
    if latest is not None and latest > published_at:
        return
    sealer = sealer_for(work.settings.secret_key, LIAISON_CONTACTS)
    work.session.execute(delete(LiaisonOfficer))
    work.session.execute(delete(Department))
    for department in event.departments:
        work.session.add(
            Department(
                code=department.code,
                name=department.name,
                name_en=department.name_en,
                published_at=published_at,
            )
        )
        liaisons = _LIAISONS.validate_json(sealer.open(department.sealed_liaisons))
        work.session.add_all(
            LiaisonOfficer(department_code=department.code, name=x.name, phone=x.phone)
            for x in liaisons
        )
