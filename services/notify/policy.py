"""The citizen's time and limits: quiet hours, a daily cap per number, opting out.

Plain rules over plain data; `scheduling` applies them to the messages table.

Urgent messages go out at once, at any hour and beyond the cap (they still count towards it):
what the citizen is waiting for right now because they just acted (the receipt with their
tracking number and access code, the answer to their own SMS), and the major-matter alert to
leaders, which exists to be read at once.

The daily cap is the citizen's: notices to staff are never capped, since a digest would hide
which work orders they concern.

Essential messages reach a number even after it opted out: those without which the citizen
cannot follow or save their own case (the receipt with the access code, the request for missing
material that pauses the case, the answers to their own SMS, the confirmation of the opt-out
itself), and every notice to staff, which is their duty and not theirs to decline.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

QUEUED = "queued"
# Waiting out the quiet hours until `not_before`.
HELD = "held"
# Beyond the day's cap: merged into one digest at `not_before`.
CAPPED = "capped"
# Merged into a digest, which is the message sent.
MERGED = "merged"
# Not sent: the number opted out and the message is not essential.
SUPPRESSED = "suppressed"

# What replies and the digest send (see replies and scheduling).
STATUS_REPLY = "status_reply"
OPT_OUT_CONFIRMED = "opt_out_confirmed"
OPT_IN_CONFIRMED = "opt_in_confirmed"
DIGEST = "digest"

URGENT_TEMPLATES = frozenset(
    {
        "case_received",
        "case_answered_directly",
        STATUS_REPLY,
        OPT_OUT_CONFIRMED,
        OPT_IN_CONFIRMED,
        "major_alert",
    }
)
STAFF_TEMPLATES = frozenset(
    {"work_order_arrived", "work_order_due_soon", "work_order_overdue", "major_alert"}
)
ESSENTIAL_TEMPLATES = (
    frozenset(
        {
            "case_received",
            "case_answered_directly",
            "case_material_requested",
            STATUS_REPLY,
            OPT_OUT_CONFIRMED,
            OPT_IN_CONFIRMED,
        }
    )
    | STAFF_TEMPLATES
)


QuietHours = tuple[time, time]


def is_urgent(template: str) -> bool:
    return template in URGENT_TEMPLATES


def is_essential(template: str) -> bool:
    return template in ESSENTIAL_TEMPLATES


def in_quiet_hours(moment: time, quiet: QuietHours) -> bool:
    start, end = quiet
    if start < end:
        return start <= moment < end
    # Across midnight, as the default 21:00–08:00.
    return moment >= start or moment < end


def release_time(now: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """The first moment from `now` outside the quiet hours (UTC)."""
    if quiet is None:
        return now
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time().replace(tzinfo=None), quiet):
        return now
    end = datetime.combine(local.date(), quiet[1], tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet[1], tzinfo=tz)
    return end.astimezone(UTC)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def digest_time(day: date, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """When the messages capped on `day` go out as one digest: the next day's first hour allowed."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return release_time(next_midnight.astimezone(UTC), quiet, tz)


@dataclass(frozen=True)
class Plan:
    """What becomes of a new message: its status, when it may go, the day it counts on."""

    status: str
    not_before: datetime | None
    counted_on: date | None


def plan(
    template: str,
    *,
    now: datetime,
    quiet: QuietHours | None,
    cap: int,
    tz: ZoneInfo,
    opted_out: bool,
    counted_on: Callable[[date], int],
) -> Plan:
    """Send now, hold for the quiet hours, merge into the digest, or drop for an opt-out.

    `counted_on(day)` is how many messages already go to the number on that local day.
    """
    if opted_out and not is_essential(template):
        return Plan(SUPPRESSED, None, None)
    release = now if is_urgent(template) else release_time(now, quiet, tz)
    day = local_day(release, tz)
    if not is_urgent(template) and template not in STAFF_TEMPLATES and counted_on(day) >= cap:
        return Plan(CAPPED, digest_time(day, quiet, tz), None)
    if release > now:
        return Plan(HELD, release, day)
    return Plan(QUEUED, None, day)


# --- replies --------------------------------------------------------------------------------

OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "退定", "STOP", "UNSUBSCRIBE", "0000"})
OPT_IN_WORDS = frozenset({"START", "订阅", "恢复", "DY"})
STATUS_WORDS = frozenset({"JD", "进度", "查进度", "查询进度", "查询"})
RATING_WORDS: dict[str, Literal["satisfied", "basically-satisfied", "dissatisfied"]] = {
    "1": "satisfied",
    "满意": "satisfied",
    "1满意": "satisfied",
    "2": "basically-satisfied",
    "基本满意": "basically-satisfied",
    "2基本满意": "basically-satisfied",
    "3": "dissatisfied",
    "不满意": "dissatisfied",
    "3不满意": "dissatisfied",
}


@dataclass(frozen=True)
class Meaning:
    """What a citizen's SMS asks for: opt-out, opt-in, status, rating, or a message."""

    kind: Literal["opt-out", "opt-in", "status", "rating", "message"]
    rating: Literal["satisfied", "basically-satisfied", "dissatisfied"] | None = None


def _keyword(text: str) -> str:
    """The reply as a keyword: full-width folded, upper case, without spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(c for c in folded if not (c.isspace() or unicodedata.category(c)[0] == "P"))


def meaning_of(text: str) -> Meaning:
    """Read a reply; only a reply that is nothing but a keyword is one, else it is a message."""
    word = _keyword(text)
    if word in OPT_OUT_WORDS:
        return Meaning("opt-out")
    if word in OPT_IN_WORDS:
        return Meaning("opt-in")
    if word in STATUS_WORDS:
        return Meaning("status")
    if word in RATING_WORDS:
        return Meaning("rating", RATING_WORDS[word])
    return Meaning("message")


def national_number(sender: str) -> str:
    """A mainland mobile number as we keep it: without +86, 0086 or 86 in front."""
    digits = "".join(c for c in sender if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits
