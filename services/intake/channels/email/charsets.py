"""Charset labels as mail clients write them, and decoding that always returns text."""

from __future__ import annotations

import codecs
from functools import lru_cache

# Mail labels GB text by many names; gb18030 is a superset of gb2312 and gbk, and clients that
# say gb2312 routinely send gbk characters (names, rare place names), so all of them read as it.
_GB = ("gb18030",)
# Big5 comes with two incompatible extensions: Hong Kong's HKSCS and Microsoft's cp950 (the euro
# sign and a few symbols). HKSCS first, as it covers more of the characters people write.
_BIG5 = ("big5hkscs", "cp950")
_HZ = ("hz",)
_UTF8 = ("utf-8",)

_ALIASES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "gb2312",
            "gb_2312",
            "gb_2312-80",
            "gb2312-80",
            "gb2312-1980",
            "csgb2312",
            "csiso58gb231280",
            "iso-ir-58",
            "chinese",
            "euc-cn",
            "euccn",
            "x-euc-cn",
            "x-euc",
            "eucgb2312-cn",
            "cn-gb",
            "x-cp20936",
            "x-mac-chinesesimp",
            "gbk",
            "x-gbk",
            "csgbk",
            "cp936",
            "ms936",
            "windows-936",
            "x-windows-936",
            "936",
            "gb18030",
            "gb-18030",
            "gb18030-2000",
            "gb18030-2005",
            "gb18030-2022",
            "x-gb18030",
        ),
        _GB,
    ),
    **dict.fromkeys(
        (
            "big5",
            "big-5",
            "big-five",
            "bigfive",
            "cn-big5",
            "x-x-big5",
            "x-big5",
            "csbig5",
            "big5-tw",
            "cp950",
            "ms950",
            "windows-950",
            "x-windows-950",
            "950",
            "x-mac-chinesetrad",
            "big5-hkscs",
            "big5hkscs",
            "big5-hkscs:2004",
            "big5-hkscs:2008",
            "hkscs-big5",
            "cp951",
        ),
        _BIG5,
    ),
    **dict.fromkeys(("hz-gb-2312", "hz-gb", "hzgb", "hz", "x-hz", "cshzgb2312"), _HZ),
    **dict.fromkeys(
        ("utf-8", "utf8", "x-utf8", "x-utf-8", "unicode-1-1-utf-8", "unicode-2-0-utf-8"), _UTF8
    ),
}

# Codecs that never fail on bytes, so trying them proves nothing: a Chinese message labelled
# iso-8859-1 by an old client would otherwise come out as mojibake.
_SINGLE_BYTE = frozenset({"iso8859-1", "cp1252", "latin-1", "iso8859-15"})
# Codecs whose bytes are not ASCII-compatible: UTF-8 validity says nothing about them.
_NOT_ASCII_COMPATIBLE = frozenset(
    {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-7"}
)
# Enough characters to judge a text by, without going through a long one character by character.
_SAMPLE = 4000
_SEVEN_BIT = frozenset({"hz", "utf-7", "iso2022_jp", "iso2022_kr", "iso2022_jp_2"})


def _normalise(label: str) -> str:
    return label.strip().strip("\"'").strip().lower().replace("_", "-")


@lru_cache(maxsize=512)
def codecs_for(label: str | None) -> tuple[str, ...]:
    """Python codecs to read text labelled `label` with, best first; () when unknown."""
    if not label:
        return ()
    name = _normalise(label)
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        codec = codecs.lookup(name).name
        # Python also knows bytes-to-bytes "codecs" (base64, zlib) and ones that always fail.
        "a".encode(codec)
    except (LookupError, ValueError, UnicodeError):
        return ()
    return _ALIASES.get(codec, (codec,))


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _looks_like_gb(data: bytes) -> bool:
    """Whether every non-ASCII byte pairs up the way GB2312 (EUC-CN) text does."""
    try:
        data.decode("gb2312")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_gb2312(text: str) -> bool:
    """Whether nearly all characters are in GB2312, as mainland text is (Big5 read as GB isn't)."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        wide = [c for c in text[:_SAMPLE] if ord(c) > 0x7F]
        outside = 0
        for char in wide:
            try:
                char.encode("gb2312")
            except UnicodeEncodeError:
                outside += 1
        return outside * 10 <= len(wide)
    return True


def decode(data: bytes, label: str | None, hint: str | None = None) -> tuple[str, str | None]:
    """`data` as text, and a note when `label` was unknown or wrong; never raises.

    Valid UTF-8 is read as UTF-8 whatever the label says, since a stray label is far likelier
    than GB or Big5 text that happens to be valid UTF-8. Otherwise the declared charset (or,
    without a usable label, `hint`: the message's own charset, for raw 8-bit headers), then
    GB18030 and Big5, and finally what no charset could read is replaced.
    """
    declared = codecs_for(label)
    unknown = f"unknown charset {label!r}" if label and not declared else None
    if declared and declared[0] in _NOT_ASCII_COMPATIBLE:
        text = _strict(data, declared[0])
        if text is not None:
            return text, None
        return data.decode(declared[0], "replace"), f"text is not valid {label!r}"
    if data.isascii():
        if declared and declared[0] in _SEVEN_BIT:
            text = _strict(data, declared[0])
            if text is not None:
                return text, None
        return data.decode("ascii"), unknown
    text = _strict(data, "utf-8")
    if text is not None:
        return text, unknown

    candidates = declared or tuple(c for c in codecs_for(hint) if c not in _NOT_ASCII_COMPATIBLE)
    if candidates and candidates[0] in _SINGLE_BYTE:
        if _looks_like_gb(data):
            return data.decode("gb18030"), _mislabelled(label, "gb18030", unknown)
        return data.decode(candidates[0], "replace"), unknown
    for codec in candidates:
        text = _strict(data, codec)
        if text is not None:
            return text, unknown if declared else _mislabelled(label, codec, unknown)

    gb = _strict(data, "gb18030")
    if gb is not None and _mostly_gb2312(gb):
        return gb, _mislabelled(label, "gb18030", unknown)
    for codec in _BIG5:
        text = _strict(data, codec)
        if text is not None:
            return text, _mislabelled(label, codec, unknown)
    if gb is not None:
        return gb, _mislabelled(label, "gb18030", unknown)
    fallback = declared[0] if declared else "utf-8"
    try:
        text = data.decode(fallback, "replace")
    except UnicodeError:  # a codec such as idna fails whatever the error handler
        text = data.decode("utf-8", "replace")
    return text, f"undecodable bytes in {repr(label) if label else 'unlabelled'} text"


def _mislabelled(label: str | None, codec: str, unknown: str | None) -> str | None:
    if unknown:
        return f"{unknown}; read as {codec}"
    if label:
        return f"text labelled {label!r} read as {codec}"
    return None
