"""Header values as mail really writes them: encoded words, raw 8-bit bytes, RFC 2231 params."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from services.intake.channels.email.charsets import decode

_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n\Z")
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BLANK = re.compile(rb"[ \t\r\n]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_PARAM = re.compile(r';\s*([^=;\s"]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.DOTALL)
_SECTION = re.compile(r"^(.+?)\*(\d+)(\*?)$")
_ANGLE_ID = re.compile(r"<\s*([^<>\s\x00-\x1f\x7f]+?)\s*>")
_BARE_ID = re.compile(r"[^\s<>,;\"()\x00-\x1f\x7f]+@[^\s<>,;\"()\x00-\x1f\x7f]+")
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]+")
_WHITESPACE = re.compile(rb"\s+")


def unfold(value: str) -> str:
    """The value on one line, as RFC 5322 unfolding gives it."""
    return _FOLD.sub("", value)


def to_bytes(value: str) -> bytes:
    """The bytes a header held: the parser keeps undeclared 8-bit bytes as surrogates."""
    return value.encode("utf-8", "surrogateescape")


def single_line(text: str) -> str:
    """Control characters (NUL, line breaks) turned into single spaces, ends trimmed."""
    return _CONTROL.sub(" ", text).strip()


def decode_base64(data: bytes) -> tuple[bytes, bool]:
    """The bytes of base64 `data`, skipping stray characters and a cut-off last group.

    The flag says whether `data` was damaged: characters outside the alphabet, or cut short.
    """
    letters = _NOT_BASE64.sub(b"", data)
    damaged = len(letters) != len(_WHITESPACE.sub(b"", data).rstrip(b"="))
    if len(letters) % 4 == 1:
        letters, damaged = letters[:-1], True
    return binascii.a2b_base64(letters + b"=" * (-len(letters) % 4)), damaged


def _word_bytes(encoding: bytes, payload: bytes) -> bytes:
    if encoding in b"bB":
        return decode_base64(payload)[0]
    return binascii.a2b_qp(payload, header=True)


def decode_header(value: str, hint: str | None = None, defects: list[str] | None = None) -> str:
    """A header value as text: encoded words decoded, adjacent ones joined, 8-bit bytes read.

    Adjacent encoded words in one charset are decoded together, because clients split a
    multi-byte character across two words. Damaged base64 is read as far as it goes; what does
    not look like an encoded word (an unterminated one, say) is kept as written.
    """
    value = unfold(value)
    if value.isascii() and "=?" not in value:
        return single_line(value)
    raw = to_bytes(value)
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    position = 0

    def flush() -> None:
        if pending:
            out.append(_text(b"".join(pending), pending_charset, hint, defects))
            pending.clear()

    for match in _ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        charset = match.group(1).split(b"*", 1)[0].decode("ascii", "replace")
        data = _word_bytes(match.group(2), match.group(3))
        if pending and _BLANK.fullmatch(between):
            # White space between two encoded words is folding, not text (RFC 2047 section 6.2).
            if charset.lower() != pending_charset.lower():
                flush()
                pending_charset = charset
            pending.append(data)
        else:
            flush()
            out.append(_text(between, None, hint, defects))
            pending_charset = charset
            pending.append(data)
        position = match.end()
    flush()
    out.append(_text(raw[position:], None, hint, defects))
    return single_line("".join(out))


def _text(data: bytes, charset: str | None, hint: str | None, defects: list[str] | None) -> str:
    if not data:
        return ""
    text, defect = decode(data, charset, hint)
    if defect and defects is not None:
        defects.append(f"header: {defect}")
    return text


def parameters(
    value: str, hint: str | None = None, defects: list[str] | None = None
) -> tuple[str, dict[str, str]]:
    """The lower-cased value before the first `;` and the parameters, RFC 2231 sections joined.

    Clients send file names as RFC 2231 (`filename*=gbk''%D6%D0`, in sections), as RFC 2047
    encoded words inside quotes (Outlook, Foxmail), or as raw 8-bit bytes; all are read.
    """
    value = unfold(value)
    head, _, _ = value.partition(";")
    plain: dict[str, str] = {}
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for match in _PARAM.finditer(value):
        name, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"'):
            raw = _BACKSLASH.sub(
                r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
            )
        section = _SECTION.match(name)
        if section:
            sections.setdefault(section.group(1), []).append(
                (int(section.group(2)), bool(section.group(3)), raw)
            )
        elif name.endswith("*"):
            sections.setdefault(name[:-1], []).append((0, True, raw))
        else:
            plain.setdefault(name, raw)
    params = {name: decode_header(raw, hint, defects) for name, raw in plain.items()}
    for name, parts in sections.items():
        params[name] = _join_sections(sorted(parts), hint, defects)
    return single_line(head).lower(), params


def _join_sections(
    parts: Iterable[tuple[int, bool, str]], hint: str | None, defects: list[str] | None
) -> str:
    charset: str | None = None
    chunks: list[bytes] = []
    for index, extended, raw in parts:
        if extended:
            if index == 0 and raw.count("'") >= 2:
                charset, _, raw = raw.split("'", 2)
            chunks.append(unquote_to_bytes(to_bytes(raw)))
        else:
            chunks.append(to_bytes(raw))
    return single_line(_text(b"".join(chunks), charset or None, hint, defects))


def message_ids(value: str) -> tuple[str, ...]:
    """The Message-IDs in a Message-ID, In-Reply-To or References value, without brackets."""
    value = unfold(value)
    found = _ANGLE_ID.findall(value) or _BARE_ID.findall(value)
    ids: list[str] = []
    for item in found:
        item = item if item.isascii() else decode(to_bytes(item), None)[0]
        if item not in ids:
            ids.append(item)
    return tuple(ids)
