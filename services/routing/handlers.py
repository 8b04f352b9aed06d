"""Routing turns each submitted case into a work order for a department, or for the dispatcher."""

from __future__ import annotations

from services.kernel.consumer import RetryLater, Subscriptions
from services.kernel.events.contracts import (
    CaseMerged,
    CaseRated,
    CaseSubmitted,
    CaseSupplemented,
)
from services.kernel.work import Work
from services.kernel.workdays import local_date
from services.routing.catalogue_cache import current_catalogue
from services.routing.classifier import dispatching as learned_dispatch
from services.routing.dispatch import case_facts, decide, order_columns
from services.routing.lifecycle import AWAITING_CITIZEN, OPEN_STATES, RESOLVED
from services.routing.major import major_alert
from services.routing.work_orders import SYSTEM, Request, act, open_work_orders, orders_of_case

subscriptions = Subscriptions("routing")


@subscriptions.subscribe(CaseSubmitted)
def dispatch_case(event: CaseSubmitted, work: Work) -> None:
    # The inbox runs this once per event: no lookup first.
    if event.answered_directly:
        open_work_orders(work, event, None, (), "answered directly")
        return
    catalogue = current_catalogue(work.session)
    decision = decide(
        catalogue.rules,
        event.category,
        event.description,
        facts=case_facts(event),
        on=local_date(event.submitted_at),
    )
    # A trained model may replace the keywords' guess; the unsure go to the dispatcher with
    # its suggestions.
    decision, suggestions = learned_dispatch.refine(
        work, decision, catalogue.department_names, event.description
    )
    lead = open_work_orders(
        work,
        event,
        decision.department_code,
        decision.co_departments,
        decision.matched_by,
        columns={**order_columns(decision, event.urgency), "suggestions": suggestions},
    )
    if decision.major:
        work.publish(major_alert(event, lead.id, decision), case_id=event.case_id)


@subscriptions.subscribe(CaseMerged)
def close_merged_work_order(event: CaseMerged, work: Work) -> None:
    """A merged case is worked only as part of the case it joined: its open orders stop."""
    orders = orders_of_case(work.session, event.case_id, lock=True)
    if not orders:
        raise RetryLater(f"case {event.case_id} has no work order yet")
    for order in orders:
        if order.status in OPEN_STATES:
            act(
                work,
                order,
                "merge",
                SYSTEM,
                Request(reason=f"merged into {event.into_tracking_no}"),
            )


@subscriptions.subscribe(CaseSupplemented)
def resume_on_material(event: CaseSupplemented, work: Work) -> None:
    """The citizen added material: the orders waiting for it are worked again."""
    for order in orders_of_case(work.session, event.case_id, lock=True):
        if order.status == AWAITING_CITIZEN:
            act(work, order, "supplement", SYSTEM, Request())


@subscriptions.subscribe(CaseRated)
def revisit_or_rehandle(event: CaseRated, work: Work) -> None:
    """A rating is the revisit (回访); a dissatisfied one sends the lead order back (重办)."""
    for order in orders_of_case(work.session, event.case_id, lock=True):
        if order.role != "lead" or order.status != RESOLVED:
            continue
        if event.rating == "dissatisfied":
            reason = event.comment or "the citizen is dissatisfied"
            act(work, order, "rehandle", SYSTEM, Request(reason=reason, rating=event.rating))
        else:
            act(work, order, "revisit", SYSTEM, Request(rating=event.rating))
