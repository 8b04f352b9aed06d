"""Staff tokens: what a service accepts as proof of who is asking."""

from __future__ import annotations

import pytest

from services.kernel.auth import InvalidToken, Staff, mint_token, verify_token

KEY = "k" * 48
ALICE = Staff("u-1", "Alice", frozenset({"operator"}), department_code=None, unit="12345 centre")


def test_a_token_carries_who_and_which_roles() -> None:
    staff = verify_token(mint_token(ALICE, KEY), KEY)

    assert staff == ALICE
    assert staff.has("operator", "admin")
    assert not staff.has("dispatcher")


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify_token(mint_token(ALICE, "other" * 10), KEY)


def test_a_tampered_token_is_refused() -> None:
    header, _body, signature = mint_token(ALICE, KEY).split(".")
    forged = mint_token(Staff("u-1", "Alice", frozenset({"admin"})), "x" * 48).split(".")[1]

    with pytest.raises(InvalidToken):
        verify_token(f"{header}.{forged}.{signature}", KEY)


def test_an_expired_token_is_refused() -> None:
    token = mint_token(ALICE, KEY, ttl=60, now=1_000_000)

    assert verify_token(token, KEY, now=1_000_059) == ALICE
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token, KEY, now=1_000_060)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "...."])
def test_garbage_is_refused_as_invalid(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(token, KEY)
