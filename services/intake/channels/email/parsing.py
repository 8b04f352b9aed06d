"""An email's raw bytes as a `ParsedEmail`: whatever arrived, read as far as it can be."""

from __future__ import annotations

import mimetypes
import re
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from services.intake.channels.email.charsets import decode
from services.intake.channels.email.headers import (
    decode_base64,
    decode_header,
    message_ids,
    parameters,
    single_line,
    to_bytes,
    unfold,
)
from services.intake.channels.email.html_text import html_to_text
from services.intake.channels.email.loops import automated_reason
from services.intake.channels.email.message import ParsedAttachment, ParsedEmail
from services.intake.channels.email.replies import strip_quoted_reply

__all__ = ["MAX_DEPTH", "MAX_PARTS", "parse_email", "strip_quoted_reply"]

# No client nests multiparts more than a handful of levels; deeper is an attack or a loop of
# forwards, and reading it would only cost time.
MAX_DEPTH = 20
MAX_PARTS = 500
# The stdlib parser recurses once per nesting level and slows down long before it gives up;
# a message declaring this many multiparts is not read part by part at all.
MAX_MULTIPARTS = 100

# compat32 keeps header values as they came (8-bit bytes as surrogates), which is what lets us
# read undeclared GBK headers ourselves; it is also several times faster than policy.default.
_PARSER = BytesParser(policy=policy.compat32)
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_DELIMITER = re.compile(rb"^--([^\r\n]{1,200}?)[ \t]*\r?$", re.MULTILINE)
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_SIGNATURES = frozenset(
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
)
_BODY_TYPES = frozenset({"text/plain", "text/html"})

Headers = dict[str, list[str]]


def parse_email(raw: bytes) -> ParsedEmail:
    """Everything that can be read of `raw`; never raises, what it could not read is in defects."""
    try:
        return _parse(raw)
    except Exception as error:  # the last line of defence: a message must never stop intake
        return _unreadable(raw, error)


def _parse(raw: bytes) -> ParsedEmail:
    defects: list[str] = []
    found = _CHARSET.search(raw, 0, 65536)
    hint = found.group(1).decode("ascii") if found else None
    body = _Body(hint, defects)
    if raw.count(b"ultipart/") > MAX_MULTIPARTS:
        message = body.flat(raw)
    else:
        try:
            message = _PARSER.parsebytes(raw)
            body.walk(message, 0)
        except RecursionError:
            message = body.flat(raw)
    headers = _headers(message)
    subject = decode_header(_first(headers, "subject"), hint, defects)
    sender_name, sender = _address(_first(headers, "from"), hint, defects)
    # "MAILER-DAEMON" without a domain is no address to answer, but it still marks a bounce.
    sender_address = sender if sender and "@" in sender else None
    content_type, params = parameters(_first(headers, "content-type"))
    message_id = message_ids(_first(headers, "message-id"))
    return ParsedEmail(
        message_id=message_id[0] if message_id else None,
        in_reply_to=message_ids(" ".join(headers.get("in-reply-to", ()))),
        references=message_ids(" ".join(headers.get("references", ()))),
        sender_name=sender_name,
        sender_address=sender_address,
        reply_to=_reply_to(_first(headers, "reply-to"), hint, defects),
        subject=subject,
        sent_at=_date(_first(headers, "date"), defects),
        text="\n\n".join(text for text in body.texts if text),
        attachments=tuple(body.attachments),
        automated=automated_reason(
            headers, content_type, params.get("report-type"), sender, subject
        ),
        defects=tuple(dict.fromkeys(defects)),
    )


class _Body:
    """Walks the MIME tree, gathering the text a person wrote and the files they attached."""

    def __init__(self, hint: str | None, defects: list[str]) -> None:
        self.hint = hint
        self.defects = defects
        self.texts: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.parts = 0

    def flat(self, raw: bytes) -> Message:
        """The headers, and the whole body as text: for structures too deep to walk."""
        message = _PARSER.parsebytes(raw, headersonly=True)
        self.defects.append("multipart nested too deeply to read; body kept as text")
        self.texts = [_clean_text(decode(_raw_payload(message), None, self.hint)[0])]
        self.attachments = []
        return message

    def walk(self, part: Message, depth: int) -> None:
        self.parts += 1
        if depth > MAX_DEPTH:
            self.defects.append(f"multipart nested deeper than {MAX_DEPTH} levels; rest skipped")
            return
        if self.parts > MAX_PARTS:
            self.defects.append(f"more than {MAX_PARTS} parts; rest skipped")
            return
        headers = _headers(part)
        content_type, params = parameters(
            _first(headers, "content-type") or "text/plain", self.hint, self.defects
        )
        if "/" not in content_type:
            content_type = part.get_content_type()
        payload = _sent_payload(part)
        if isinstance(payload, list):
            children = [child for child in payload if isinstance(child, Message)]
            self._container(part, content_type, children, depth)
        elif content_type.startswith("multipart/"):
            self._salvage(_raw_payload(part), content_type, depth)
        else:
            self._leaf(part, content_type, params, headers)
        self._note(part)

    def _container(
        self, part: Message, content_type: str, children: list[Message], depth: int
    ) -> None:
        if content_type == "message/rfc822" or part.get_content_type() == "message/rfc822":
            for inner in children:
                self._forwarded(inner, depth + 1)
        elif content_type.startswith("message/"):
            return  # delivery-status and the like: header blocks for machines
        elif content_type == "multipart/alternative":
            self._alternative(children, depth + 1)
        else:
            for child in children:
                self.walk(child, depth + 1)

    def _collect(self, part: Message, depth: int) -> tuple[list[str], list[ParsedAttachment]]:
        saved = self.texts, self.attachments
        self.texts, self.attachments = [], []
        try:
            self.walk(part, depth)
            return self.texts, self.attachments
        finally:
            self.texts, self.attachments = saved

    def _alternative(self, children: list[Message], depth: int) -> None:
        chosen: list[str] = []
        for child in children:
            texts, attachments = self._collect(child, depth)
            # Images inline in the HTML version are often the citizen's photos: keep them all.
            self.attachments.extend(a for a in attachments if a not in self.attachments)
            if any(text.strip() for text in texts):
                if child.get_content_type() == "text/plain":
                    chosen = texts
                    break
                chosen = chosen or texts
        self.texts.extend(chosen)

    def _forwarded(self, inner: Message, depth: int) -> None:
        headers = _headers(inner)
        texts, attachments = self._collect(inner, depth)
        lines = ["---------- 转发的邮件 Forwarded message ----------"]
        for label, name in (("发件人 From", "from"), ("主题 Subject", "subject")):
            value = decode_header(_first(headers, name), self.hint)
            if value:
                lines.append(f"{label}: {value}")
        self.texts.append("\n".join(lines) + "\n\n" + "\n\n".join(texts))
        self.attachments.extend(attachments)

    def _salvage(self, body: bytes, content_type: str, depth: int) -> None:
        guess = _DELIMITER.search(body)
        if guess:
            boundary = guess.group(1).removesuffix(b"--").replace(b'"', b"")
            rebuilt = _PARSER.parsebytes(
                b"Content-Type: "
                + content_type.encode("ascii", "replace")
                + b'; boundary="'
                + boundary
                + b'"\r\n\r\n'
                + body
            )
            if rebuilt.is_multipart():
                self.defects.append(
                    "multipart boundary missing or wrong; parts found by delimiters"
                )
                self.walk(rebuilt, depth + 1)
                return
        self.defects.append("multipart without parts; read as text")
        self.texts.append(_clean_text(decode(body, None, self.hint)[0]))

    def _leaf(
        self, part: Message, content_type: str, params: dict[str, str], headers: Headers
    ) -> None:
        disposition, disposition_params = parameters(
            _first(headers, "content-disposition"), self.hint, self.defects
        )
        filename = disposition_params.get("filename") or params.get("name") or ""
        data = self._payload(part, headers)
        attached = disposition == "attachment" or (bool(filename) and disposition != "inline")
        if content_type in _BODY_TYPES and not attached:
            text, defect = decode(data, params.get("charset"), self.hint)
            if defect:
                self.defects.append(f"body: {defect}")
            if content_type == "text/html":
                text, intact = html_to_text(text)
                if not intact:
                    self.defects.append("broken HTML; text read up to the break")
            self.texts.append(_clean_text(text))
        elif content_type not in _SIGNATURES and (data or filename):
            name = filename or _default_name(content_type, len(self.attachments) + 1)
            self.attachments.append(ParsedAttachment(name, content_type, data))

    def _payload(self, part: Message, headers: Headers) -> bytes:
        if _first(headers, "content-transfer-encoding").strip().lower() == "base64":
            # The stdlib gives up on base64 cut off mid-group and returns it undecoded.
            payload = _sent_payload(part)
            data, damaged = decode_base64(to_bytes(payload) if isinstance(payload, str) else b"")
            if damaged:
                self.defects.append("damaged base64: read as far as it goes")
            return data
        return _raw_payload(part)

    def _note(self, part: Message) -> None:
        for defect in part.defects:
            name = _CAMEL.sub(" ", type(defect).__name__).lower().removesuffix(" defect")
            self.defects.append(name)


def _sent_payload(part: Message) -> object:
    """The body as the parser stored it: sub-parts, or text with 8-bit bytes as surrogates.

    `get_payload()` would decode 8-bit text by the part's charset label, and raises on labels
    that are not even names.
    """
    return vars(part).get("_payload")


def _raw_payload(part: Message) -> bytes:
    """The body's bytes, quoted-printable decoded; `get_payload()` would decode 8-bit text."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _headers(part: Message) -> Headers:
    found: Headers = {}
    for name, value in part.raw_items():
        found.setdefault(name.strip().lower(), []).append(unfold(str(value)))
    return found


def _first(headers: Headers, name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _address(value: str, hint: str | None, defects: list[str]) -> tuple[str | None, str | None]:
    if not value.strip():
        return None, None
    name, address = parseaddr(value)
    if "@" not in address:
        # Some mailers encode the whole "Name <address>" as one encoded word.
        name, address = parseaddr(decode_header(value, hint))
    if not _ADDRESS.fullmatch(address):
        found = _ADDRESS.search(value)
        address = found.group(0) if found else address
    if not address.isascii():
        address = decode(to_bytes(address), None, hint)[0]
    address = single_line(address).strip("<>").lower()
    return decode_header(name, hint, defects).strip("\"' ") or None, address or None


def _reply_to(value: str, hint: str | None, defects: list[str]) -> str | None:
    address = _address(value, hint, defects)[1]
    return address if address and "@" in address else None


def _date(value: str, defects: list[str]) -> datetime | None:
    if not value.strip():
        return None
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unreadable Date header")
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


def _default_name(content_type: str, number: int) -> str:
    if content_type == "application/ms-tnef":
        return "winmail.dat"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{mimetypes.guess_extension(content_type) or '.bin'}"


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _TEXT_CONTROL.sub("", text).strip()


def _unreadable(raw: bytes, error: Exception) -> ParsedEmail:
    return ParsedEmail(
        message_id=None,
        in_reply_to=(),
        references=(),
        sender_name=None,
        sender_address=None,
        reply_to=None,
        subject="",
        sent_at=None,
        text=_clean_text(decode(raw, None)[0]),
        attachments=(),
        automated=None,
        defects=(f"message could not be parsed ({type(error).__name__}); kept as text",),
    )
