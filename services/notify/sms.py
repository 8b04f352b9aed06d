"""SMS length as carriers count it: GSM-7 160/153, UCS-2 70/67 per part."""

from __future__ import annotations

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters reached through the escape code: each costs two septets.
_GSM7_EXTENSION = set("^{}\\[~]|€\f")
_GSM7 = frozenset(_GSM7_BASIC | _GSM7_EXTENSION)

# Units in a lone part, and in each part of a concatenated message (the rest holds the UDH).
GSM7_PART = (160, 153)
UCS2_PART = (70, 67)


def is_gsm7(text: str) -> bool:
    return _GSM7.issuperset(text)


def _cost(char: str, gsm7: bool) -> int:
    if gsm7:
        return 2 if char in _GSM7_EXTENSION else 1
    # A character beyond the BMP is a surrogate pair: two UTF-16 code units.
    return len(char.encode("utf-16-le")) // 2


def units(text: str) -> int:
    """Length in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2."""
    # Whole-string counts, not a cost per character: every SMS notify sends is measured.
    if is_gsm7(text):
        return len(text) + sum(1 for c in text if c in _GSM7_EXTENSION)
    return len(text.encode("utf-16-le")) // 2


def split(text: str) -> list[str]:
    """The parts the carrier sends `text` in (signature included by the caller).

    Carriers never cut an escape sequence or a surrogate pair in two, so a part that would end
    halfway through one ends a unit early and the character opens the next part.
    """
    gsm7 = is_gsm7(text)
    single, multi = GSM7_PART if gsm7 else UCS2_PART
    if units(text) <= single:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        cost = _cost(char, gsm7)
        if used + cost > multi:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    parts.append("".join(current))
    return parts


def segments(text: str) -> int:
    """How many parts the carrier bills for `text` (signature included by the caller)."""
    return len(split(text))
