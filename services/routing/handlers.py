"""Routing turns each submitted case into a work order for a department, or for the dispatcher."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kernel.bus import department_destination
from services.kernel.clock import utcnow
from services.kernel.consumer import Subscriptions
from services.kernel.events.contracts import CaseAssigned, CasePendingDispatch, CaseSubmitted
from services.kernel.work import Work
from services.routing.dispatch import Rules, decide
from services.routing.models import Department, DispatchTerm, WorkOrder

subscriptions = Subscriptions("routing")


@subscriptions.subscribe(CaseSubmitted)
def dispatch_case(event: CaseSubmitted, work: Work) -> None:
    session = work.session
    if session.scalars(select(WorkOrder).where(WorkOrder.case_id == event.case_id)).first():
        return
    decision = decide(rules_cache.get(session), event.category, event.description)
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
    department = session.get_one(Department, decision.department_code)
    work.publish(
        CaseAssigned(
            case_id=event.case_id,
            tracking_no=event.tracking_no,
            work_order_id=order.id,
            department_code=department.code,
            department_name=department.name,
            deadline=order.deadline,
            matched_by=decision.matched_by,
            kind=event.kind,
            category=event.category,
            description=event.description,
            address=order.address,
        ),
        case_id=event.case_id,
        also_to=[department_destination(department.code)],
    )


class RulesCache:
    """The catalogue's rules, read at most every `ttl` seconds rather than for every case."""

    def __init__(self, ttl: float = 30.0) -> None:
        self._ttl = ttl
        self._rules: dict[str, tuple[float, Rules]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> Rules:
        key = str(session.get_bind().engine.url)
        with self._lock:
            cached = self._rules.get(key)
            if cached is not None and time.monotonic() - cached[0] < self._ttl:
                return cached[1]
        rules = load_rules(session)
        with self._lock:
            self._rules[key] = (time.monotonic(), rules)
        return rules

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


rules_cache = RulesCache()


def load_rules(session: Session) -> Rules:
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
    return Rules(by_category, {code: tuple(words) for code, words in keywords.items()})
