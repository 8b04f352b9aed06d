"""Staff passwords and the sign-in throttle: pure rules, no database."""

from __future__ import annotations

import pytest

from services.routing.staff import (
    NewStaff,
    SignInThrottle,
    StaffError,
    check_new_staff,
    hash_password,
    password_matches,
)


def test_a_password_hash_is_salted_and_checks_only_the_right_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # a salt of its own each time
    assert first.startswith("scrypt$16384$8$1$")
    assert password_matches("correct horse", first)
    assert not password_matches("correct horsE", first)
    assert not password_matches("correct horse", "bcrypt$whatever")
    assert not password_matches("correct horse", "garbage")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_username_is_refused_after_five_failures_until_the_oldest_ages_out() -> None:
    clock = Clock()
    throttle = SignInThrottle(per_username=5, per_address=100, window=900, clock=clock)
    for _ in range(4):
        throttle.failed("Wang", "10.0.0.1")
        clock.now += 10
    assert throttle.wait("wang", "10.0.0.2") == 0
    throttle.failed("wang", "10.0.0.1")
    assert throttle.wait("wang", "10.0.0.2") == 860  # first failure at 1000, now 1040
    assert throttle.wait("li", "10.0.0.2") == 0
    clock.now = 1900
    assert throttle.wait("wang", "10.0.0.2") == 0


def test_an_address_guessing_many_usernames_is_refused() -> None:
    clock = Clock()
    throttle = SignInThrottle(per_username=5, per_address=3, window=60, clock=clock)
    for name in ("a", "b", "c"):
        throttle.failed(name, "10.0.0.9")
    assert throttle.wait("d", "10.0.0.9") == 60
    assert throttle.wait("d", "10.0.0.8") == 0


def test_success_clears_the_username_but_not_the_address() -> None:
    throttle = SignInThrottle(per_username=2, per_address=3, window=60, clock=Clock())
    throttle.failed("wang", "10.0.0.1")
    throttle.failed("wang", "10.0.0.1")
    throttle.succeeded("wang")
    assert throttle.wait("wang", None) == 0
    throttle.failed("li", "10.0.0.1")
    assert throttle.wait("zhao", "10.0.0.1") == 60


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"username": "A"}, "username"),
        ({"username": "has space"}, "username"),
        ({"roles": ["janitor"]}, "role"),
        ({"roles": []}, "role"),
        ({"roles": ["handler"]}, "a handler belongs to one department"),
        ({"department_code": "nope"}, "no department"),
        ({"password": "short"}, "password"),
        ({"name": " "}, "name"),
    ],
)
def test_an_account_that_could_not_work_is_refused(change: dict[str, object], reason: str) -> None:
    fields: dict[str, object] = {
        "username": "wang.li",
        "name": "王丽",
        "roles": ["operator"],
        "password": "long enough password",
        **change,
    }
    with pytest.raises(StaffError, match=reason):
        check_new_staff(NewStaff(**fields), {"edu"})  # type: ignore[arg-type]
