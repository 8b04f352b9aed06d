"""Token buckets for submissions, and the rate settings that configure them."""

from __future__ import annotations

import pytest

from services.intake.limits import RateLimiter
from services.kernel.config import ConfigError, Rate, parse_rate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_its_count_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60), clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(20.0)
    assert limiter.take("b") == 0, "another key has its own bucket"


def test_the_bucket_refills_steadily() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60), clock)
    for _ in range(3):
        limiter.take("a")
    clock.now += 20
    assert limiter.take("a") == 0
    assert limiter.take("a") > 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0], "never more than the count"
    assert limiter.take("a") > 0


def test_memory_stays_bounded_by_dropping_the_longest_unseen_keys() -> None:
    limiter = RateLimiter(Rate(1, 3600), Clock())
    limiter.MAX_KEYS = 2
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")
    assert limiter.take("a") == 0, "a was dropped, so it starts full again"
    assert limiter.take("c") > 0


@pytest.mark.parametrize(
    ("text", "rate"),
    [("60/minute", Rate(60, 60)), ("20/hour", Rate(20, 3600)), ("1/day", Rate(1, 86400))],
)
def test_rates_are_read_from_count_and_period(text: str, rate: Rate) -> None:
    assert parse_rate("X", text) == rate


def test_off_means_no_limit_and_nonsense_names_the_variable() -> None:
    assert parse_rate("X", "off") is None
    for bad in ("60", "0/minute", "ten/hour", "5/fortnight"):
        with pytest.raises(ConfigError, match="MINQING_RATE_LIMIT_PER_IP"):
            parse_rate("MINQING_RATE_LIMIT_PER_IP", bad)


def test_asking_how_long_to_wait_does_not_count_as_a_request() -> None:
    limiter = RateLimiter(Rate(1, 60), Clock())
    assert limiter.wait("a") == 0
    assert limiter.wait("a") == 0
    limiter.take("a")
    assert limiter.wait("a") == pytest.approx(60.0)
