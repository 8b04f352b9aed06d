"""Routing turns each submitted case into a work order for a department, or for the dispatcher."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.bus import department_destination
from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import (
    CaseAssigned,
    CaseMerged,
    CasePendingDispatch,
    CaseSubmitted,
)
from services.kernel.work import Work
from services.routing.classifier import dispatching as learned_dispatch
from services.routing.dispatch import Rules, decide
from services.routing.models import Department, DispatchTerm, WorkOrder

subscriptions = Subscriptions("routing")
# A work order's terminal state for a case answered when it was taken in.
ANSWERED = "answered"


@subscriptions.subscribe(CaseSubmitted)
def dispatch_case(event: CaseSubmitted, work: Work) -> None:
    # The inbox runs this once per event and work_orders.case_id is unique: no lookup first.
    session = work.session
    if event.answered_directly:
        session.add(answered_order(event))
        return
    catalogue = catalogue_cache.get(session)
    decision = decide(catalogue.rules, event.category, event.description)
    decision, suggestions = learned_dispatch.refine(
        work, decision, catalogue.department_names, event.description
    )
    now = utcnow()
    order = WorkOrder(
        id=uuid.uuid4(),
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        department_code=decision.department_code,
        status="awaiting_dispatch" if decision.needs_dispatcher else "dispatched",
        matched_by=decision.matched_by,
        kind=event.kind,
        category=event.category,
        description=event.description,
        address=event.location.address if event.location else None,
        # The date promised to the citizen at intake is the department's deadline.
        deadline=event.promised_date,
        created_at=now,
        updated_at=now,
        suggestions=suggestions,
    )
    session.add(order)
    if decision.department_code is None:
        work.publish(
            CasePendingDispatch(
                case_id=event.case_id,
                tracking_no=event.tracking_no,
                work_order_id=order.id,
                reason=decision.matched_by,
            ),
            case_id=event.case_id,
        )
        return
    code = decision.department_code
    work.publish(
        CaseAssigned(
            case_id=event.case_id,
            tracking_no=event.tracking_no,
            work_order_id=order.id,
            department_code=code,
            department_name=catalogue.department_names[code],
            deadline=order.deadline,
            matched_by=decision.matched_by,
            kind=event.kind,
            category=event.category,
            description=event.description,
            address=order.address,
        ),
        case_id=event.case_id,
        also_to=[department_destination(code)],
    )


def answered_order(event: CaseSubmitted) -> WorkOrder:
    """A consultation answered on the call: recorded as closed, on no department's queue."""
    now = utcnow()
    return WorkOrder(
        id=uuid.uuid4(),
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        department_code=None,
        status=ANSWERED,
        matched_by="answered directly",
        kind=event.kind,
        category=event.category,
        description=event.description,
        address=event.location.address if event.location else None,
        deadline=event.promised_date,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True)
class Catalogue:
    """What dispatching reads for every case: the rules and the departments' names."""

    rules: Rules
    department_names: dict[str, str]


class CatalogueCache:
    """The catalogue, read at most every `ttl` seconds rather than for every case."""

    def __init__(self, ttl: float = 30.0) -> None:
        self._ttl = ttl
        self._catalogues: dict[str, tuple[float, Catalogue]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> Catalogue:
        key = str(session.get_bind().engine.url)
        with self._lock:
            cached = self._catalogues.get(key)
            if cached is not None and time.monotonic() - cached[0] < self._ttl:
                return cached[1]
        catalogue = read_catalogue(session)
        with self._lock:
            self._catalogues[key] = (time.monotonic(), catalogue)
        return catalogue

    def clear(self) -> None:
        with self._lock:
            self._catalogues.clear()


catalogue_cache = CatalogueCache()


def read_catalogue(session: Session) -> Catalogue:
    by_category: dict[str, str] = {}
    keywords: dict[str, list[str]] = defaultdict(list)
    active = select(Department.code).where(Department.active.is_(True))
    for term in session.scalars(
        select(DispatchTerm)
        .where(DispatchTerm.department_code.in_(active))
        .order_by(DispatchTerm.id)
    ):
        if term.term_type == "category":
            by_category[term.term] = term.department_code
        else:
            keywords[term.department_code].append(term.term)
    rules = Rules(by_category, {code: tuple(words) for code, words in keywords.items()})
    names = dict(session.execute(select(Department.code, Department.name)).tuples().all())
    return Catalogue(rules, names)


@subscriptions.subscribe(CaseMerged)
def close_merged_work_order(event: CaseMerged, work: Work) -> None:
    """A merged case is worked only as part of the case it joined: close its own work order."""
    order = work.session.scalars(
        select(WorkOrder).where(WorkOrder.case_id == event.case_id).with_for_update()
    ).first()
    if order is None:
        raise RetryLater(f"case {event.case_id} has no work order yet")
    order.status = "merged"
    order.updated_at = utcnow()
