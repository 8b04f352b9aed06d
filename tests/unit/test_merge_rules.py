"""Merges that make no sense are refused, each with its own status, field and reason."""

from __future__ import annotations

from services.intake.merging import Side, refusal

A, B, C = "20261201-000001", "20261201-000002", "20261201-000003"


def test_merging_two_cases_that_stand_on_their_own_is_allowed() -> None:
    assert refusal(Side(A, None), Side(B, None)) is None


def test_a_case_cannot_join_itself() -> None:
    refused = refusal(Side(A, None), Side(A, None))
    assert refused is not None
    assert (refused.status, refused.field, refused.type) == (422, "into", "merge_into_itself")


def test_a_case_already_merged_is_not_merged_again() -> None:
    refused = refusal(Side(A, B), Side(C, None))
    assert refused is not None
    assert (refused.status, refused.field, refused.type) == (409, "tracking_no", "already_merged")
    assert B in refused.reason.en
    assert B in refused.reason.zh


def test_a_case_cannot_join_a_merged_case_and_is_pointed_to_where_that_went() -> None:
    refused = refusal(Side(A, None), Side(B, C))
    assert refused is not None
    assert (refused.status, refused.field, refused.type) == (409, "into", "into_merged_case")
    assert C in refused.reason.en


def test_merging_back_into_a_case_that_joined_this_one_is_a_cycle() -> None:
    refused = refusal(Side(B, None), Side(A, B))
    assert refused is not None
    assert (refused.status, refused.field, refused.type) == (409, "into", "merge_cycle")
