"""Intake keeps each case's citizen view, and the categories it offers, from routing's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.intake import categories, domain, messages
from services.intake.callbacks import record_missed_call
from services.intake.models import Case, CatalogueCategory, Resolution, TimelineEntry
from services.intake.ratings import CannotRate, rate
from services.intake.supplements import supplement
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import (
    CaseAssigned,
    CaseExtensionDecided,
    CaseMaterialRequested,
    CasePendingDispatch,
    CaseResolved,
    CataloguePublished,
    CitizenReplied,
    CitizenUnreachable,
    MessageDelivered,
    MessageFailed,
    MessageMerged,
    MessageSent,
)
from services.kernel.work import Work

subscriptions = Subscriptions("intake")


def cases_of(session: Session, events: Sequence[CaseAssigned | CasePendingDispatch]) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.id.in_({e.case_id for e in events}))))


@subscriptions.subscribe(CaseAssigned, CasePendingDispatch, preload=cases_of)
def update_citizen_view(event: CaseAssigned | CasePendingDispatch, work: Work) -> None:
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    assert work.envelope is not None
    occurred_at = work.envelope.occurred_at
    if isinstance(event, CaseAssigned):
        status, note = "dispatched", event.department_name
        case.department_code = event.department_code
        case.department_name = event.department_name
        # Intake gave an estimate at receipt; the date fixed at dispatch is the promise.
        case.promised_date = event.deadline
    else:
        status, note = "awaiting_dispatch", None
    work.session.add(
        TimelineEntry(case_id=case.id, occurred_at=occurred_at, status=status, note=note)
    )
    if domain.advances(case.status, status):
        case.status = status
        case.updated_at = occurred_at


@subscriptions.subscribe(CaseMaterialRequested, CaseExtensionDecided)
def note_department_request(
    event: CaseMaterialRequested | CaseExtensionDecided, work: Work
) -> None:
    """What the citizen must know of the department's work: material missing, a new date.

    Only the lead department's order speaks for the case; co-handling departments work under it.
    """
    if event.order_role != "lead":
        return
    if isinstance(event, CaseExtensionDecided) and not event.approved:
        return
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    note: str | None
    if isinstance(event, CaseExtensionDecided):
        entry, note = domain.EXTENDED, event.deadline.isoformat()
        case.promised_date = event.deadline
    else:
        entry, note = domain.MATERIAL_REQUESTED, event.reason
    work.session.add(
        TimelineEntry(case_id=case.id, occurred_at=event.occurred_at, status=entry, note=note)
    )
    case.updated_at = max(case.updated_at, event.occurred_at)


@subscriptions.subscribe(CataloguePublished)
def keep_catalogue(event: CataloguePublished, work: Work) -> None:
    """Replace the categories with the latest catalogue; an older one arriving late is ignored."""
    assert work.envelope is not None
    session = work.session
    latest = session.scalar(select(func.max(CatalogueCategory.published_at)))
    if latest is not None and latest > work.envelope.occurred_at:
        return
    session.execute(delete(CatalogueCategory))
    session.add_all(catalogue_categories(event, work.envelope.occurred_at))
    work.after_commit(categories.forget)


def catalogue_categories(
    event: CataloguePublished, published_at: datetime
) -> list[CatalogueCategory]:
    """One row per category, in catalogue order; a category listed twice goes to the first."""
    rows: dict[str, CatalogueCategory] = {}
    for department in event.departments:
        for category in department.categories:
            rows.setdefault(
                category,
                CatalogueCategory(
                    category=category,
                    position=len(rows),
                    department_code=department.code,
                    department_name=department.name,
                    department_name_en=department.name_en,
                    published_at=published_at,
                ),
            )
    return list(rows.values())


RESOLVED = "resolved"
# What the timeline shows of the reply; the whole reply is kept with the resolution.
_REPLY_NOTE_LENGTH = 500


@subscriptions.subscribe(CaseResolved)
def record_resolution(event: CaseResolved, work: Work) -> None:
    """The department's answer reaches the citizen's view; the case may now be rated."""
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    reply = event.reply
    note = reply if len(reply) <= _REPLY_NOTE_LENGTH else reply[: _REPLY_NOTE_LENGTH - 1] + "…"
    work.session.add_all(
        [
            Resolution(
                case_id=case.id,
                work_order_id=event.work_order_id,
                department_code=event.department_code,
                department_name=event.department_name,
                reply=reply,
                resolved_at=event.resolved_at,
            ),
            TimelineEntry(
                case_id=case.id, occurred_at=event.resolved_at, status=RESOLVED, note=note
            ),
        ]
    )
    case.department_code = event.department_code
    case.department_name = event.department_name
    if domain.advances(case.status, RESOLVED):
        case.status = RESOLVED
        case.updated_at = event.resolved_at


@subscriptions.subscribe(CitizenReplied)
def take_sms_reply(event: CitizenReplied, work: Work) -> None:
    """A citizen's SMS: a rating of the resolved case, else their message on its timeline."""
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    if event.meaning == "rating" and event.rating is not None:
        try:
            rate(work, case, "sms", event.rating, None)
            return
        except CannotRate:
            # Rated already, or reopened since: what they wrote is still kept, as a message.
            pass
    supplement(work, case, "sms", event.text)


@subscriptions.subscribe(CitizenUnreachable)
def call_back_unreachable_citizen(event: CitizenUnreachable, work: Work) -> None:
    """An SMS did not reach a citizen who gave no email: an operator calls them back.

    The entry is keyed by the message, so a redelivered event adds nothing. A tip-off's
    reporter is left off the list: their number is opened only through the audited disclosure.
    """
    assert work.envelope is not None
    case = work.session.get(Case, event.case_id)
    if case is None:
        raise RetryLater(f"case {event.case_id} is not in intake's database")
    if case.contact_phone is None:
        return
    record_missed_call(
        work.session,
        call_id=f"sms:{event.message_id}",
        caller_number=case.contact_phone,
        missed_at=work.envelope.occurred_at,
    )


@subscriptions.subscribe(MessageMerged, MessageSent, MessageDelivered, MessageFailed)
def keep_message_status(event: messages.MessageEvent, work: Work) -> None:
    """The citizen's messages and their delivery status, for the case page.

    This runs for every message sent: it reads nothing, and the batch's updates are written in
    one statement when it commits.
    """
    assert work.envelope is not None
    update = messages.update_from(event, work.envelope.occurred_at)
    if update is not None:
        messages.keep(work, update)
