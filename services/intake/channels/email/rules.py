"""The email channel's rules, free of I/O: what a message is, what it asks, what to keep of it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from services.intake.attachments import (
    MAX_FILES,
    MAX_TOTAL_BYTES,
    AttachmentRefused,
    CheckedFile,
    IncomingFile,
    check_file,
)
from services.intake.channels.email.message import ParsedAttachment
from services.kernel.events.contracts import Kind, Language

# Message-IDs longer than the column are kept as their hash, the same way wherever they are met.
MAX_ID_LENGTH = 255
# The longest description a case takes from a message; the whole message stays in the raw copy.
MAX_DESCRIPTION = 5000

_KIND_TAGS: dict[str, Kind] = {
    "投诉": "complaint",
    "咨询": "consultation",
    "建议": "suggestion",
    "举报": "tip-off",
    "求助": "help",
    "表扬": "praise",
}
_KIND_TAG = re.compile(r"[【\[［]\s*(" + "|".join(_KIND_TAGS) + r")\s*[】\]］]")
_TRACKING_NO = re.compile(r"(?<![0-9])([0-9]{8}-[0-9]{6})(?![0-9])")
_MOBILE = re.compile(
    r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# Where the earlier message starts in a reply, as the common mail programs write it.
_QUOTE_HEADERS = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:Original Message|原始邮件|Forwarded message|转发邮件)\s*-{2,}"
    r"|On .{1,200} wrote:"
    r"|在 ?.{1,200}(?:写道|寫道)[:：]"
    r"|(?:From|发件人|寄件者)\s*[:：].+"
    r"|_{10,}"
    r")\s*$",
    re.IGNORECASE,
)


def message_key(message_id: str | None, raw: bytes) -> str:
    """What makes a message the same message: its Message-ID, else a hash of its bytes."""
    if message_id:
        return stored_id(message_id)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def stored_id(message_id: str) -> str:
    """A Message-ID as intake keeps it: itself, or its hash when longer than the column."""
    if len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def thread_ids(in_reply_to: Sequence[str], references: Sequence[str]) -> list[str]:
    """The Message-IDs a reply points at, the most telling first: In-Reply-To, then the
    References from the newest back."""
    ordered = [*in_reply_to, *reversed(references)]
    return list(dict.fromkeys(stored_id(i) for i in ordered))


def kind_of(subject: str) -> tuple[Kind, str]:
    """The kind a subject tag such as 【咨询】 chooses (a complaint without one), and the
    subject without the tag."""
    found = _KIND_TAG.search(subject)
    if found is None:
        return "complaint", subject.strip()
    rest = (subject[: found.start()] + subject[found.end() :]).strip()
    return _KIND_TAGS[found.group(1)], rest


def tracking_no_in(subject: str) -> str | None:
    """A tracking number (`YYYYMMDD-NNNNNN`) in a subject, as in `Re: … [20261127-000001]`."""
    found = _TRACKING_NO.search(subject)
    return found.group(1) if found else None


def mobile_in(text: str) -> str | None:
    """The first mainland mobile number the citizen wrote, so the case's SMS reach them too."""
    found = _MOBILE.search(text)
    return "".join(found.groups()) if found else None


def language_of(text: str) -> Language:
    """English for mail with Latin letters and no Chinese; Chinese otherwise."""
    return "en" if _LATIN.search(text) and not _CJK.search(text) else "zh"


def trim_quoted(text: str) -> str:
    """A reply's own words: without the quoted earlier message below (or among) them."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADERS.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def description(subject: str, text: str, notes: Sequence[str]) -> str:
    """A case's description: the subject, the text, then what was not kept of the message."""
    parts = [p for p in (subject.strip(), text.strip()) if p]
    body = "\n\n".join(parts) or "（见附件 / see the attachments）"
    if len(body) > MAX_DESCRIPTION:
        body = body[: MAX_DESCRIPTION - 1] + "…"
    return "\n\n".join([body, *notes]) if notes else body


def choose_files(
    attachments: Sequence[ParsedAttachment], language: Language = "zh"
) -> tuple[list[CheckedFile], list[str]]:
    """The attachments that pass the channel-wide checks, and a note for each one dropped.

    A file that breaks a rule, or that would go over the count or total size, is left out;
    the message itself is never refused for its attachments.
    """
    dropped = "Attachment not kept: " if language == "en" else "附件未接收："
    over = "over the limit on attachments" if language == "en" else "超过附件数量或总大小的限制"
    kept: list[CheckedFile] = []
    notes: list[str] = []
    total = 0
    for attachment in attachments:
        try:
            checked = check_file(IncomingFile(attachment.filename, attachment.data))
        except AttachmentRefused as refused:
            notes.append(dropped + refused.text(language))
            continue
        if len(kept) == MAX_FILES or total + len(checked.data) > MAX_TOTAL_BYTES:
            notes.append(f"{dropped}{checked.filename}: {over}")
            continue
        kept.append(checked)
        total += len(checked.data)
    return kept, notes
