"""Rate limits on submissions, per client address and per phone number.

Buckets live in the intake process's memory: with several intake processes behind a balancer
each enforces its own share, which still stops a script flooding the county's inbox. A phone's
bucket is keyed by the number's keyed fingerprint, so not even memory holds it in the clear (a
tip-off reporter's number included).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from services.intake.fingerprints import phone_fingerprint
from services.kernel.config import Rate, Settings
from services.kernel.language import InvalidValue, Language


class RateLimiter:
    """Token buckets: `rate.count` requests per `rate.period` seconds, refilled steadily."""

    MAX_KEYS = 100_000

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (tokens left, when counted); least recently seen first, so the oldest go first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Count one request for `key`: 0 when allowed, else the seconds until one would be."""
        return self._settle(key, consume=True)

    def wait(self, key: str) -> float:
        """Like `take`, without counting: 0 when a request would be allowed now."""
        return self._settle(key, consume=False)

    def _settle(self, key: str, *, consume: bool) -> float:
        refill_per_second = self._rate.count / self._rate.period
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (float(self._rate.count), now))
            tokens = min(float(self._rate.count), tokens + (now - then) * refill_per_second)
            allowed = tokens >= 1
            if allowed and consume:
                tokens -= 1
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._buckets.popitem(last=False)
        return 0.0 if allowed else (1 - tokens) / refill_per_second


@dataclass(frozen=True)
class Refusal:
    """Why a submission was refused: the field to blame, the reason, the seconds to wait."""

    field: str
    reason: InvalidValue
    retry_after: int

    def message(self, language: Language) -> str:
        if language == "zh":
            return f"{self.reason.zh}，请 {self.retry_after} 秒后再试"
        return f"{self.reason.en}; try again in {self.retry_after} s"


_TOO_MANY_FROM_ADDRESS = InvalidValue(
    "too many submissions from this address", "该地址提交过于频繁"
)
_TOO_MANY_FROM_PHONE = InvalidValue(
    "too many submissions from this phone number", "该手机号码提交过于频繁"
)


# Wrong tracking number or access code: a citizen mistypes a few times, a guesser thousands.
LOOKUP_FAILURES = Rate(30, 3600)
_TOO_MANY_FAILED_LOOKUPS = InvalidValue(
    "too many wrong tracking numbers or access codes from this address",
    "该地址输入错误的编号或查询码次数过多",
)


class SubmissionLimits:
    """The limits one intake process applies to every channel's submissions and lookups."""

    def __init__(self, settings: Settings) -> None:
        per_ip, per_phone = settings.rate_limit_per_ip, settings.rate_limit_per_phone
        self._per_ip = RateLimiter(per_ip) if per_ip else None
        self._per_phone = RateLimiter(per_phone) if per_phone else None
        self._failed_lookups = RateLimiter(LOOKUP_FAILURES)
        self._secret_key = settings.secret_key

    def check_lookup(self, client: str | None) -> Refusal | None:
        """Refuse every lookup, right or wrong, from an address that has guessed too often."""
        wait = self._failed_lookups.wait(client) if client is not None else 0.0
        if wait:
            return Refusal("access_code", _TOO_MANY_FAILED_LOOKUPS, _seconds(wait))
        return None

    def failed_lookup(self, client: str | None) -> None:
        if client is not None:
            self._failed_lookups.take(client)

    def check(self, client: str | None, phone: str | None) -> Refusal | None:
        if self._per_ip is not None and client is not None:
            wait = self._per_ip.take(client)
            if wait:
                return Refusal("client", _TOO_MANY_FROM_ADDRESS, _seconds(wait))
        fingerprint = phone_fingerprint(phone, self._secret_key)
        if self._per_phone is not None and fingerprint is not None:
            wait = self._per_phone.take(fingerprint)
            if wait:
                return Refusal("contact.phone", _TOO_MANY_FROM_PHONE, _seconds(wait))
        return None


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
