"""The work order's lifecycle table: who may move an order, from where, to where, and why."""

from __future__ import annotations

import pytest

from services.routing import lifecycle
from services.routing.lifecycle import Refused, decide


def test_the_main_path_runs_from_registration_to_closing() -> None:
    path = [
        ("route", "system", None),
        ("sign_for", "handler", None),
        ("progress", "handler", "visited the school"),
        ("resolve", "handler", "the transfer is done"),
        ("revisit", "system", None),
        ("close", "dispatcher", None),
    ]
    state = lifecycle.REGISTERED
    for action, role, reason in path:
        state = decide(state, action, [role], reason).target
    assert state == lifecycle.CLOSED


@pytest.mark.parametrize(
    ("state", "action", "role", "reason", "target"),
    [
        ("awaiting_dispatch", "dispatch", "dispatcher", None, "dispatched"),
        ("awaiting_dispatch", "answer", "dispatcher", "call the office", "answered"),
        ("in_progress", "request_material", "handler", "ID copy, lease", "awaiting_citizen"),
        ("awaiting_citizen", "supplement", "system", None, "in_progress"),
        ("in_progress", "request_extension", "handler", "survey", "extension_requested"),
        ("extension_requested", "approve_extension", "dispatcher", None, "in_progress"),
        ("extension_requested", "refuse_extension", "dispatcher", "no", "in_progress"),
        ("dispatched", "return", "handler", "county rules art. 3", "returned"),
        ("returned", "redispatch", "dispatcher", None, "dispatched"),
        ("returned", "overrule", "dispatcher", "it is yours", "dispatched"),
        ("resolved", "rehandle", "system", "dissatisfied", "in_progress"),
        ("revisited", "rehandle", "dispatcher", "callback", "in_progress"),
        ("extension_requested", "merge", "system", None, "merged"),
    ],
)
def test_allowed_transitions(state: str, action: str, role: str, reason: str, target: str) -> None:
    move = decide(state, action, [role], reason)  # type: ignore[list-item]
    assert (move.source, move.target, move.role) == (state, target, role)


def test_the_wrong_role_is_403_whatever_the_state() -> None:
    for state in ("dispatched", "closed"):
        with pytest.raises(Refused) as refused:
            decide(state, "sign_for", ["dispatcher"])
        assert refused.value.status == 403
        assert "handler" in refused.value.message


def test_the_wrong_state_is_409_and_says_where_it_may_come_from() -> None:
    with pytest.raises(Refused) as refused:
        decide("resolved", "sign_for", ["handler"])
    assert refused.value.status == 409
    assert refused.value.message == (
        "cannot sign_for a work order that is resolved (only from: dispatched)"
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_required_reason_is_422_and_names_the_field(reason: str | None) -> None:
    with pytest.raises(Refused) as refused:
        decide("in_progress", "resolve", ["handler"], reason)
    assert refused.value.status == 422
    assert "the reply to the citizen" in refused.value.message
    assert "`reason`" in refused.value.message


def test_an_unknown_action_is_404() -> None:
    with pytest.raises(Refused) as refused:
        decide("dispatched", "teleport", ["dispatcher"])
    assert refused.value.status == 404


def test_someone_with_several_roles_acts_in_the_one_the_table_admits() -> None:
    assert decide("returned", "overrule", ["handler", "dispatcher"], "x").role == "dispatcher"


def test_only_routing_itself_merges_and_resumes() -> None:
    for action, state in (("merge", "in_progress"), ("supplement", "awaiting_citizen")):
        for role in ("dispatcher", "handler", "admin", "supervisor"):
            with pytest.raises(Refused):
                decide(state, action, [role])  # type: ignore[list-item]


def test_every_row_starts_from_a_known_state_and_every_state_is_reachable() -> None:
    states = {lifecycle.REGISTERED} | {t.target for t in lifecycle.TABLE}
    assert all(t.sources <= states for t in lifecycle.TABLE)
    assert states - {t.target for t in lifecycle.TABLE} == {lifecycle.REGISTERED}


def test_the_second_rehandle_escalates_to_supervision() -> None:
    assert not lifecycle.rehandle_escalates(0)
    assert lifecycle.rehandle_escalates(1)
    assert lifecycle.rehandle_escalates(2)


def test_a_lead_waits_for_its_unfinished_co_orders() -> None:
    co = [("a", "in_progress"), ("b", "resolved"), ("c", "merged"), ("d", "returned")]
    assert lifecycle.unfinished_co_orders(co) == ["a", "d"]


def test_a_handler_sees_the_buttons_of_its_state() -> None:
    assert lifecycle.actions_from("dispatched", "handler") == ["sign_for", "return"]
    assert lifecycle.actions_from("returned", "dispatcher") == ["redispatch", "overrule"]


def test_due_soon_counts_working_days_across_national_day() -> None:
    from datetime import date

    from services.routing.workbench import marks

    # 2026-09-30 is a Wednesday before the National Day holiday (Oct 1-7).
    assert marks(date(2026, 10, 8), date(2026, 9, 30)) == (False, True)
    assert marks(date(2026, 9, 29), date(2026, 9, 30)) == (True, False)
    assert marks(date(2026, 10, 12), date(2026, 9, 30)) == (False, False)
