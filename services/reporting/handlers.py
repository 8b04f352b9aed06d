"""Reporting's projections, fed by the case events."""

from __future__ import annotations

from services.kernel.consumer import Subscriptions
from services.kernel.events.contracts import CaseAssigned, CasePendingDispatch, CaseSubmitted
from services.kernel.work import Work
from services.reporting.models import CaseFact
from services.reporting.projections import CaseEvent, apply

subscriptions = Subscriptions("reporting")


@subscriptions.subscribe(CaseSubmitted, CaseAssigned, CasePendingDispatch)
def case_facts(event: CaseEvent, work: Work) -> None:
    assert work.envelope is not None
    fact = work.session.get(CaseFact, event.case_id, with_for_update=True)
    if fact is None:
        fact = CaseFact(case_id=event.case_id)
        work.session.add(fact)
    apply(fact, event, work.envelope.occurred_at)
