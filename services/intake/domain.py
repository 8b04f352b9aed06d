"""Intake's rules, free of I/O: tracking numbers, access codes, contacts, the citizen's status."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

from services.kernel.language import InvalidValue

# No 0/O, 1/I/L: a citizen reads the code off an SMS and types it in.
ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 6

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")

# What the citizen sees, in the order a case moves through them.
# Timeline entries of the department's work that the citizen is told of.
MATERIAL_REQUESTED, EXTENDED = "material_requested", "extended"
STATUSES = ("received", "awaiting_dispatch", "dispatched", "resolved", "answered", "merged")
STATUS_LABELS = {
    # Timeline entries, not statuses: the case stays where it was.
    "supplemented": "补充材料",
    "material_requested": "需补充材料",
    "extended": "已延期",
    "rated": "已评价",
    "received": "已受理",
    "awaiting_dispatch": "待派单",
    "dispatched": "已派单",
    "resolved": "已办结",
    "answered": "已当场答复",
    # Merged into another case (并单): that case is worked and followed from then on.
    "merged": "已合并办理",
}


def format_tracking_no(day: date, sequence: int) -> str:
    """`YYYYMMDD-NNNNNN`: the day it was accepted and its place in that day."""
    if not 0 < sequence < 1_000_000:
        raise ValueError(f"sequence {sequence} out of range for one day")
    return f"{day:%Y%m%d}-{sequence:06d}"


def new_access_code() -> str:
    # One draw for the whole code, written out in the alphabet's base: uniform as six separate
    # choices, but one read of the system's randomness instead of six. Each read lets go of the
    # GIL, and a request thread waits to take it back behind the process's other threads.
    base = len(ACCESS_CODE_ALPHABET)
    value = secrets.randbelow(base**ACCESS_CODE_LENGTH)
    digits = []
    for _ in range(ACCESS_CODE_LENGTH):
        value, digit = divmod(value, base)
        digits.append(ACCESS_CODE_ALPHABET[digit])
    return "".join(digits)


def hash_access_code(code: str, key: str) -> str:
    return hmac.new(key.encode(), code.strip().upper().encode(), hashlib.sha256).hexdigest()


def access_code_matches(code: str, stored_hash: str, key: str) -> bool:
    return hmac.compare_digest(hash_access_code(code, key), stored_hash)


def normalise_mobile(raw: str) -> str:
    """An 11-digit mainland mobile number, without +86, spaces or dashes; ValueError if not one."""
    # NFKC turns the full-width digits a Chinese keyboard types into ASCII ones.
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MOBILE.match(digits):
        raise InvalidValue(
            "must be a mainland China mobile number: 11 digits starting with 1",
            "请填写中国大陆手机号码：以 1 开头的 11 位数字",
        )
    return digits


def normalise_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidValue(
            "must be an email address like name@example.com",
            "请填写有效的电子邮箱，例如 name@example.com",
        )
    return email


def advances(current: str, new: str) -> bool:
    """A status only moves forward: a late or replayed event never turns the clock back."""
    return STATUSES.index(new) > STATUSES.index(current)
