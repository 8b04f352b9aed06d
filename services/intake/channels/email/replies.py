"""What a reply adds: the new text, without the earlier message that clients quote below it."""

from __future__ import annotations

import re

# Lines where a client starts quoting: Outlook ("邮件原件") and Foxmail separators in Chinese and
# English, QQ Mail's "原始邮件" banner, Apple Mail / 163 "在 … 写道：", Gmail "… 于 … 写道："
# and "On … wrote:".
_SEPARATOR = re.compile(
    r"^(?:-{2,}|—{2,}|={2,})\s*"
    r"(?:原始邮件|原始郵件|邮件原件|郵件原件|原邮件|回复的原邮件|回复邮件|"
    r"original message|original|reply message)"
    r"\s*(?:-{2,}|—{2,}|={2,})$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{10,}$")
_WROTE = re.compile(r"(?:写道|寫道)\s*[:：]$|\bwrote:$", re.IGNORECASE)
_ON = re.compile(r"^(?:on|在)\s", re.IGNORECASE)
_FROM = re.compile(r"^\*?(?:发件人|寄件者|寄件人|from)\s*\*?\s*[:：]", re.IGNORECASE)
_SENT = re.compile(
    r"^\*?(?:发送时间|发送日期|寄件日期|日期|时间|sent|date)\s*\*?\s*[:：]", re.IGNORECASE
)
_QUOTED = re.compile(r"^\s*[>＞]")


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if not line:
        return False
    if _SEPARATOR.match(line) or _UNDERSCORES.match(line):
        return True
    if len(line) < 300 and _WROTE.search(line):
        return True
    following = [candidate.strip() for candidate in lines[index + 1 : index + 4]]
    # Gmail wraps a long "On … wrote:" over two lines.
    if _ON.match(line) and following and _WROTE.search(following[0]):
        return True
    # Outlook without a separator: a "From:" line with a "Sent:" line just below it.
    return bool(_FROM.match(line)) and any(_SENT.match(candidate) for candidate in following)


def strip_quoted_reply(text: str) -> str:
    """`text` without the quoted earlier message and `>` lines; all of it if nothing is left."""
    lines = text.split("\n")
    for index in range(len(lines)):
        if _starts_quote(lines, index):
            lines = lines[:index]
            break
    kept = "\n".join(line for line in lines if not _QUOTED.match(line)).strip()
    return kept or text.strip()
