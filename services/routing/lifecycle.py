"""The work order's life: one table of states and of the transitions allowed between them.

Pure rules, no I/O: given a state, an action and who asks, the new state or a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

REGISTERED = "registered"
AWAITING_DISPATCH = "awaiting_dispatch"
DISPATCHED = "dispatched"
SIGNED_FOR = "signed_for"
IN_PROGRESS = "in_progress"
AWAITING_CITIZEN = "awaiting_citizen"
EXTENSION_REQUESTED = "extension_requested"
RETURNED = "returned"
RESOLVED = "resolved"
REVISITED = "revisited"
CLOSED = "closed"
ANSWERED = "answered"
MERGED = "merged"

# Who may act. "system" is routing itself on an event from intake (a rating, added material, a
# merge); a department's own system acts as that department's handler.
Actor = Literal["dispatcher", "handler", "supervisor", "admin", "operator", "system"]

# Where the order is still being worked; a merge may close any of them.
OPEN_STATES = frozenset(
    {
        AWAITING_DISPATCH,
        DISPATCHED,
        SIGNED_FOR,
        IN_PROGRESS,
        AWAITING_CITIZEN,
        EXTENSION_REQUESTED,
        RETURNED,
    }
)
# Done as far as a lead order waiting on its co-handling orders is concerned.
FINISHED_STATES = frozenset({RESOLVED, REVISITED, CLOSED, ANSWERED, MERGED})
# A re-handle beyond this many escalates the case to supervision.
REHANDLES_BEFORE_SUPERVISION = 2

ReturnCode = Literal["wrong-territory", "wrong-function", "unclear-ownership"]
RETURN_CODES: tuple[ReturnCode, ...] = ("wrong-territory", "wrong-function", "unclear-ownership")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Actor]
    reason_required: bool
    # What the reason is, for the refusal that asks for one.
    reason_means: str = "a reason"


def _t(
    action: str,
    sources: Iterable[str],
    target: str,
    roles: Iterable[Actor],
    reason: str | None = None,
) -> Transition:
    return Transition(
        action, frozenset(sources), target, frozenset(roles), reason is not None, reason or ""
    )


WORKING = (SIGNED_FOR, IN_PROGRESS)

# The one table. Every state change of a work order is one of these rows.
TABLE: tuple[Transition, ...] = (
    # Registered by routing on intake's case.submitted: a rule chose, or nobody could.
    _t("route", [REGISTERED], DISPATCHED, ["system"]),
    _t("hold", [REGISTERED], AWAITING_DISPATCH, ["system"], "why no rule could choose"),
    _t("answer", [REGISTERED, AWAITING_DISPATCH], ANSWERED, ["system", "dispatcher"], "the answer"),
    _t("dispatch", [AWAITING_DISPATCH], DISPATCHED, ["dispatcher"]),
    _t("sign_for", [DISPATCHED], SIGNED_FOR, ["handler"]),
    _t("progress", WORKING, IN_PROGRESS, ["handler"], "a progress note"),
    _t(
        "request_material",
        WORKING,
        AWAITING_CITIZEN,
        ["handler"],
        "everything missing, in one request",
    ),
    _t("supplement", [AWAITING_CITIZEN], IN_PROGRESS, ["system"]),
    _t("request_extension", WORKING, EXTENSION_REQUESTED, ["handler"], "the reasons"),
    _t("approve_extension", [EXTENSION_REQUESTED], IN_PROGRESS, ["dispatcher"]),
    _t("refuse_extension", [EXTENSION_REQUESTED], IN_PROGRESS, ["dispatcher"], "why"),
    _t("return", [DISPATCHED, *WORKING], RETURNED, ["handler"], "the legal basis"),
    _t("redispatch", [RETURNED], DISPATCHED, ["dispatcher"]),
    _t("overrule", [RETURNED], DISPATCHED, ["dispatcher"], "why the return is refused"),
    _t(
        "resolve",
        [*WORKING, EXTENSION_REQUESTED],
        RESOLVED,
        ["handler"],
        "the reply to the citizen",
    ),
    _t("revisit", [RESOLVED], REVISITED, ["system", "dispatcher"]),
    _t("rehandle", [RESOLVED, REVISITED], IN_PROGRESS, ["system", "dispatcher"], "why"),
    _t("close", [REVISITED], CLOSED, ["dispatcher"]),
    _t("merge", OPEN_STATES, MERGED, ["system"]),
)
TRANSITIONS = {t.action: t for t in TABLE}
ACTIONS = tuple(TRANSITIONS)


class Refused(Exception):
    """A transition that may not happen; `status` is the HTTP status that says why."""

    def __init__(self, status: Literal[403, 404, 409, 422], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Move:
    """An allowed transition: where it goes, and in which of the asker's roles."""

    source: str
    target: str
    role: Actor
    transition: Transition


def decide(state: str, action: str, roles: Iterable[Actor], reason: str | None = None) -> Move:
    """The move `action` makes from `state` for someone with `roles`, or Refused.

    The role is checked before the state: a role that may never do this learns so (403) whatever
    state the order is in; a role that may learns that the state is wrong (409).
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Refused(404, f"no action {action!r}; actions are: {', '.join(ACTIONS)}")
    allowed = [role for role in roles if role in transition.roles]
    if not allowed:
        needed = ", ".join(sorted(transition.roles))
        raise Refused(403, f"{action} needs the role: {needed}")
    if state not in transition.sources:
        froms = ", ".join(sorted(transition.sources))
        raise Refused(409, f"cannot {action} a work order that is {state} (only from: {froms})")
    if transition.reason_required and not (reason and reason.strip()):
        raise Refused(422, f"{action} needs {transition.reason_means} (field `reason`)")
    return Move(state, transition.target, allowed[0], transition)


def actions_from(state: str, role: Actor) -> list[str]:
    """What `role` may do to an order in `state`: the buttons a page shows."""
    return [t.action for t in TABLE if state in t.sources and role in t.roles]


def rehandle_escalates(rehandles_so_far: int) -> bool:
    """True when this re-handle is one too many: the case goes to supervision."""
    return rehandles_so_far + 1 >= REHANDLES_BEFORE_SUPERVISION


def unfinished_co_orders(co_states: Iterable[tuple[str, str]]) -> list[str]:
    """The co-handling orders (id, state) that hold the lead back from resolving."""
    return [order_id for order_id, state in co_states if state not in FINISHED_STATES]
