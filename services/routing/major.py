"""Major matters (重大事项): what makes a case one, and the rapid response it then gets."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from services.kernel.events.contracts import CaseMajorAlert, CaseSubmitted, ScopeLevel, Urgency

if TYPE_CHECKING:
    from services.routing.dispatch import Decision

MAJOR_PRIORITY: Urgency = "extra-urgent"
# An operator marks a case major on the call by giving it this urgency.
OPERATOR_FLAG: Urgency = "extra-urgent"


def major_reasons(
    description: str,
    keywords: tuple[str, ...],
    scope: ScopeLevel | None,
    urgency: Urgency,
    rule_keys: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """Why a case is a major matter, e.g. ("keyword:爆炸", "scope:society"); empty if it is not.

    Any one reason suffices: the catalogue's major keywords in the text, a society-wide scope,
    the operator's flag, or a matching dispatch rule that marks its matters major.
    """
    reasons = [f"keyword:{word}" for word in keywords if word in description]
    if scope == "society":
        reasons.append("scope:society")
    if urgency == OPERATOR_FLAG:
        reasons.append("operator")
    reasons.extend(f"rule:{key}" for key in rule_keys)
    return tuple(reasons)


def priority(urgency: Urgency, major: bool) -> Urgency:
    """A major matter is extra-urgent whatever the case said; others keep their urgency."""
    return MAJOR_PRIORITY if major else urgency


def major_alert(
    event: CaseSubmitted, work_order_id: uuid.UUID, decision: Decision
) -> CaseMajorAlert:
    """The leaders' alert for a major matter, naming every department that got it."""
    return CaseMajorAlert(
        case_id=event.case_id,
        tracking_no=event.tracking_no,
        work_order_id=work_order_id,
        reasons=decision.major_reasons,
        lead_department_code=decision.department_code,
        co_department_codes=decision.co_departments,
        scope_level=decision.scope_level or "individual",
        priority=MAJOR_PRIORITY,
        kind=event.kind,
        category=event.category,
        description=event.description,
        address=event.location.address if event.location else None,
    )
