"""The events services exchange. Change a payload only by registering a new version."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from services.kernel.events.registry import Event, Payload, event, upcaster

Channel = Literal["web", "hotline", "email", "visit", "open311", "sms"]
Kind = Literal["consultation", "help", "complaint", "tip-off", "suggestion", "praise"]
ScopeLevel = Literal["society", "village", "villager-group", "family", "individual"]
Urgency = Literal["normal", "urgent", "extra-urgent"]
Language = Literal["zh", "en"]


class Location(Payload):
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


class Contact(Payload):
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@event("case.submitted", 1)
class CaseSubmittedV1(Event):
    """Intake accepted a case and gave the citizen a tracking number."""

    # Superseded by v2; its published schema keeps the name and words it had when it was newest.
    model_config = ConfigDict(title="CaseSubmitted")

    case_id: uuid.UUID
    tracking_no: str
    access_code: str
    channel: Channel
    kind: Kind
    category: str | None
    description: str
    location: Location | None
    contact: Contact
    submitted_at: datetime
    promised_date: date


class FirstContact(Payload):
    """The member of staff who took the case in and stays accountable for it (首问负责)."""

    staff_id: str
    name: str
    unit: str | None = None


@event("case.submitted", 2)
class CaseSubmitted(Event):
    """Intake accepted a case and gave the citizen a tracking number."""

    case_id: uuid.UUID
    tracking_no: str
    access_code: str
    channel: Channel
    kind: Kind
    category: str | None
    description: str
    location: Location | None
    contact: Contact = Field(description="empty for a tip-off: its reporter is in sealed_contact")
    sealed_contact: str | None = Field(
        default=None,
        description="a tip-off reporter's contact, sealed for the purpose 'reporter-contact'",
    )
    reference: str | None = Field(
        default=None, description="the channel's own id: call id, Message-ID, Open311 token"
    )
    first_contact: FirstContact | None = None
    urgency: Urgency = "normal"
    scope_level: ScopeLevel | None = None
    language: Language = Field(default="zh", description="the language the citizen chose")
    answered_directly: bool = Field(
        default=False, description="a consultation answered at once: closed, not dispatched"
    )
    attachments: int = Field(default=0, description="how many files came with it")
    submitted_at: datetime
    promised_date: date


@upcaster(CaseSubmittedV1)
def _submitted_v1_to_v2(old: CaseSubmittedV1) -> CaseSubmitted:
    return CaseSubmitted(**old.model_dump())


@event("case.assigned", 1)
class CaseAssigned(Event):
    """Routing gave a work order to a department; also delivered on `dept.<code>`."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    department_code: str
    department_name: str
    deadline: date
    matched_by: str = Field(description="the rule or person that chose the department")
    kind: Kind
    category: str | None
    description: str
    address: str | None


@event("case.pending_dispatch", 1)
class CasePendingDispatch(Event):
    """No rule was sure of the department: the case waits on the dispatcher's manual queue."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    reason: str


@event("message.sent", 1)
class MessageSent(Event):
    """Notify handed a message to a gateway."""

    message_id: uuid.UUID
    case_id: uuid.UUID | None
    tracking_no: str | None
    template: str
    channel: Literal["sms", "email"]
    segments: int


class CatalogueDepartment(Payload):
    code: str
    name: str
    name_en: str
    categories: tuple[str, ...] = Field(description="what a citizen may choose, in the order shown")


@event("catalogue.published", 1)
class CataloguePublished(Event):
    """Routing's dispatch catalogue as it now stands; the latest one replaces every earlier one."""

    departments: tuple[CatalogueDepartment, ...]


@event("case.supplemented", 1)
class CaseSupplemented(Event):
    """The citizen added to a case: material asked for, a reply by email, a message."""

    case_id: uuid.UUID
    tracking_no: str
    channel: Channel
    text: str
    attachments: int = Field(description="how many files came with it")
    supplemented_at: datetime


@event("case.resolved", 1)
class CaseResolved(Event):
    """A department resolved its work order (办结) and answered the citizen."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    department_code: str
    department_name: str
    reply: str = Field(description="the department's answer to the citizen")
    resolved_at: datetime


RatingValue = Literal["satisfied", "basically-satisfied", "dissatisfied"]


@event("case.rated", 1)
class CaseRated(Event):
    """The citizen rated how their resolved case was handled (评价); once per case."""

    case_id: uuid.UUID
    tracking_no: str
    channel: Channel = Field(description="where the citizen rated it")
    rating: RatingValue
    comment: str | None
    department_code: str | None = Field(description="the department that resolved the case")
    rated_at: datetime


@event("case.duplicate_suspected", 1)
class CaseDuplicateSuspected(Event):
    """Intake found an earlier case this one may repeat; the dispatcher decides whether to merge."""

    case_id: uuid.UUID
    tracking_no: str
    candidate_case_id: uuid.UUID = Field(description="the earlier case it may repeat")
    candidate_tracking_no: str
    reason: Literal["same-contact", "same-place"]
    score: float = Field(description="how alike the two descriptions are, 0 to 1")


@event("case.merged", 1)
class CaseMerged(Event):
    """A dispatcher merged a case into another (并单): only the other one is worked from now on."""

    case_id: uuid.UUID
    tracking_no: str
    into_case_id: uuid.UUID
    into_tracking_no: str
    merged_by: str = Field(description="the dispatcher's staff id")


# Sealing purpose of the address an email acknowledgement goes to (kernel.sealing).
ACKNOWLEDGEMENT_RECIPIENT = "acknowledgement-recipient"


@event("email.case_opened", 1)
class EmailCaseOpened(Event):
    """A citizen's email opened a case: notify answers it in the same thread."""

    case_id: uuid.UUID
    tracking_no: str
    access_code: str
    promised_date: date
    language: Language
    sealed_to: str = Field(
        description="the address to answer, sealed for the purpose 'acknowledgement-recipient'"
    )
    subject: str = Field(description="the citizen's subject, as they wrote it")
    in_reply_to: str | None = Field(description="the citizen's Message-ID, without <>")
    references: tuple[str, ...] = Field(description="the thread so far, oldest first, without <>")
    acknowledgement_id: str = Field(
        description="the Message-ID the acknowledgement must carry, without <>; intake threads "
        "replies to it onto the case"
    )


@event("case.major_alert", 1)
class CaseMajorAlert(Event):
    """A major matter (重大事项): leaders are told at once; its departments get it in parallel."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    reasons: tuple[str, ...] = Field(
        description="why it is major: keyword:<word>, scope:society, operator, rule:<key>"
    )
    lead_department_code: str | None = Field(description="None while it waits for the dispatcher")
    co_department_codes: tuple[str, ...]
    scope_level: ScopeLevel
    priority: Urgency
    kind: Kind
    category: str | None
    description: str
    address: str | None


class WorkOrderMoved(Event):
    """What every event of a work order's transition says (routing's lifecycle table)."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    department_code: str | None
    order_role: Literal["lead", "co"] = Field(
        description="lead answers for the case; co joins the handling (会诊)"
    )
    action: str = Field(description="the lifecycle action, e.g. sign_for, progress, return")
    from_status: str
    to_status: str
    actor_role: str = Field(description="dispatcher, handler, system, …")
    reason: str | None = Field(description="the note, reasons or answer the action carried")
    occurred_at: datetime


@event("case.accepted", 1)
class CaseAccepted(WorkOrderMoved):
    """A department signed for its work order (签收): the clock starts."""


@event("case.progressed", 1)
class CaseProgressed(WorkOrderMoved):
    """A department noted progress on its work order; `reason` is the note."""


@event("case.material_requested", 1)
class CaseMaterialRequested(WorkOrderMoved):
    """A department needs material from the citizen (补正); `reason` lists all that is missing."""


@event("case.resumed", 1)
class CaseResumed(WorkOrderMoved):
    """The citizen added material: the work order is worked (and its clock runs) again."""


@event("case.extension_requested", 1)
class CaseExtensionRequested(WorkOrderMoved):
    """A department asked the dispatcher for a later deadline (延期), with reasons."""

    requested_due: date


@event("case.extension_decided", 1)
class CaseExtensionDecided(WorkOrderMoved):
    """The dispatcher approved or refused an extension; the citizen is told the date in force."""

    approved: bool
    requested_due: date
    deadline: date = Field(description="the deadline now in force")


@event("case.returned", 1)
class CaseReturned(WorkOrderMoved):
    """A department sent its work order back (退单); `reason` is the legal basis."""

    reason_code: Literal["wrong-territory", "wrong-function", "unclear-ownership"]


@event("case.answered", 1)
class CaseAnswered(WorkOrderMoved):
    """The case was answered directly, not dispatched; `reason` is the answer."""


@event("case.co_resolved", 1)
class CaseCoResolved(WorkOrderMoved):
    """A co-handling department finished its part; the case resolves with its lead order."""


@event("case.revisited", 1)
class CaseRevisited(WorkOrderMoved):
    """The citizen was heard after resolution (回访): a rating, or the dispatcher's call."""

    rating: str | None


@event("case.rehandled", 1)
class CaseRehandled(WorkOrderMoved):
    """A dissatisfied citizen sent the case back to its department (重办)."""

    rehandles: int = Field(description="how many times the case has been re-handled, this one too")
    supervision: bool = Field(description="too many re-handles: the case is now supervised (督办)")


@event("case.closed", 1)
class CaseClosed(WorkOrderMoved):
    """The dispatcher closed the case (结案) after its revisit."""


@event("case.order_merged", 1)
class CaseOrderMerged(WorkOrderMoved):
    """A work order stopped because its case was merged into another (并单)."""


@event("case.co_assigned", 1)
class CaseCoAssigned(WorkOrderMoved):
    """A co-handling work order for a department (会诊); also delivered on `dept.<code>`."""

    lead_work_order_id: uuid.UUID
    lead_department_code: str | None
    department_name: str
    deadline: date
    kind: Kind
    category: str | None
    description: str
    address: str | None


class WorkOrderClock(Event):
    """What every deadline event says of the work order it concerns."""

    case_id: uuid.UUID
    tracking_no: str
    work_order_id: uuid.UUID
    department_code: str | None
    deadline: date = Field(description="the date promised to the citizen (China Standard Time)")
    due_at: datetime = Field(description="the moment the department's time runs out")


@event("case.deadline_near", 1)
class CaseDeadlineNear(WorkOrderClock):
    """A work order's deadline is near (by default one working day away): remind its department."""


@event("case.overdue", 1)
class CaseOverdue(WorkOrderClock):
    """A work order's deadline passed before it was resolved; published once per order."""


class EscalationFacts(WorkOrderClock):
    automatic: bool = Field(description="true when the deadline scan did it, not a supervisor")
    staff_id: str | None = Field(description="the supervisor's staff id; none when automatic")
    staff_name: str | None
    note: str | None
    occurred_at: datetime


@event("case.urged", 1)
class CaseUrged(EscalationFacts):
    """A work order was urged (催办): on the working day after its deadline, or by a supervisor."""


@event("case.supervised", 1)
class CaseSupervised(EscalationFacts):
    """A work order was put under supervision (督办): still overdue days later, or by hand."""


@event("citizen.replied", 1)
class CitizenReplied(Event):
    """A citizen answered by SMS: a rating of their resolved case, or a message for the case.

    Never carries the number; intake turns a rating into `case.rated` and a message into an
    entry on the case's timeline.
    """

    case_id: uuid.UUID
    tracking_no: str
    meaning: Literal["rating", "message"]
    rating: RatingValue | None = Field(description="for a rating: what the citizen chose")
    text: str = Field(description="the reply as the citizen wrote it")
    received_at: datetime


# Longest department names the catalogue accepts: a step notice naming one fits one SMS part.
DEPARTMENT_NAME_MAX = 20
DEPARTMENT_NAME_EN_MAX = 60
# Characters an English department name may use: all in GSM-7, so English SMS stay GSM-7.
DEPARTMENT_NAME_EN_PATTERN = r"^[A-Za-z0-9 ,.&()'/-]+$"
# Sealing purpose of the liaison officers' contacts on `catalogue.contacts_published`.
LIAISON_CONTACTS = "liaison-contacts"


class LiaisonContact(Payload):
    """A department's liaison officer (联络员), who hears of its work orders by SMS."""

    name: str
    phone: str


class DepartmentContacts(Payload):
    code: str
    name: str
    name_en: str
    sealed_liaisons: str = Field(
        description="a JSON list of LiaisonContact, sealed for the purpose 'liaison-contacts'"
    )


@event("catalogue.contacts_published", 1)
class CatalogueContactsPublished(Event):
    """Every active department's names and liaison officers; the latest replaces earlier ones.

    The officers' phones are sealed: the event goes to every consumer of the exchange, and only
    the service that texts them opens them.
    """

    departments: tuple[DepartmentContacts, ...]


DeliveryFailure = Literal["failed", "expired"]


@event("message.merged", 1)
class MessageMerged(Event):
    """A message over the citizen's daily cap goes out inside one digest SMS instead of alone.

    The digest's own fate follows as `message.sent`, `message.delivered` or `message.failed`
    under this message's id, so the case shows how its notice went.
    """

    message_id: uuid.UUID
    case_id: uuid.UUID | None
    tracking_no: str | None
    template: str
    digest_id: uuid.UUID
    merged_at: datetime


@event("message.delivered", 1)
class MessageDelivered(Event):
    """The gateway's receipt says the message reached the handset (every part of it)."""

    message_id: uuid.UUID
    case_id: uuid.UUID | None
    tracking_no: str | None
    template: str
    channel: Literal["sms", "email"]
    delivered_at: datetime


@event("message.failed", 1)
class MessageFailed(Event):
    """A message will not arrive: the gateway said so, or no receipt came in time (expired)."""

    message_id: uuid.UUID
    case_id: uuid.UUID | None
    tracking_no: str | None
    template: str
    channel: Literal["sms", "email"]
    status: DeliveryFailure
    reason: str = Field(description="the gateway's reason as it gave it, e.g. 'UNDELIV err:001'")
    failed_at: datetime


@event("citizen.unreachable", 1)
class CitizenUnreachable(Event):
    """A message to the citizen did not arrive and there is no other channel: call them back."""

    case_id: uuid.UUID
    tracking_no: str
    message_id: uuid.UUID
    template: str
    reason: str
