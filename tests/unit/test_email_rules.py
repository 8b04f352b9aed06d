"""The email channel's rules: kinds from subject tags, threading hints, what a reply adds."""

from __future__ import annotations

import pytest

from services.intake.attachments import MAX_FILES
from services.intake.channels.email import rules
from services.intake.channels.email.message import ParsedAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    ("subject", "kind", "rest"),
    [
        ("小区路灯坏了", "complaint", "小区路灯坏了"),
        ("【咨询】低保怎么申请", "consultation", "低保怎么申请"),
        ("[建议] 多开一班公交", "suggestion", "多开一班公交"),
        ("关于村务的【举报】", "tip-off", "关于村务的"),
        ("【求助】老人走失", "help", "老人走失"),
    ],
)
def test_a_subject_tag_chooses_the_kind(subject: str, kind: str, rest: str) -> None:
    assert rules.kind_of(subject) == (kind, rest)


def test_a_tracking_number_is_found_in_a_reply_subject_and_only_a_whole_one() -> None:
    assert rules.tracking_no_in("Re: 路灯 [20261127-000001]") == "20261127-000001"
    assert rules.tracking_no_in("编号120261127-0000012") is None
    assert rules.tracking_no_in("路灯") is None


def test_the_first_mobile_number_written_is_the_citizens() -> None:
    assert rules.mobile_in("电话：+86 138-1234-5678，或 13900000000") == "13812345678"
    assert rules.mobile_in("身份证 110101199003071234") is None


def test_mail_without_chinese_is_answered_in_english() -> None:
    assert rules.language_of("Street light broken") == "en"
    assert rules.language_of("Re: 路灯 broken") == "zh"
    assert rules.language_of("12345") == "zh"


def test_a_replys_quoted_earlier_message_is_trimmed() -> None:
    text = (
        "坏的是3号楼门口那盏。\n> 引用的一行\n还有5号楼。\n\n"
        "------------------ 原始邮件 ------------------\n发件人: 12345\n您的来信已收到"
    )
    assert rules.trim_quoted(text) == "坏的是3号楼门口那盏。\n还有5号楼。"
    assert rules.trim_quoted("Fine now.\n\nOn Mon, 1 Dec 2026, 12345 wrote:\n> old") == "Fine now."


def test_thread_ids_put_in_reply_to_first_then_the_newest_reference() -> None:
    assert rules.thread_ids(["c"], ["a", "b", "c"]) == ["c", "b", "a"]


def test_a_long_message_id_is_kept_as_its_hash_the_same_way_everywhere() -> None:
    long_id = "x" * 300 + "@example.com"
    assert rules.message_key(long_id, b"") == rules.stored_id(long_id)
    assert len(rules.stored_id(long_id)) <= rules.MAX_ID_LENGTH
    assert rules.message_key(None, b"raw") != rules.message_key(None, b"other")


def test_the_description_is_bounded_and_ends_with_the_notes() -> None:
    text = rules.description("标题", "很" * 10_000, ["附件未接收：a.exe"])
    body, note = text.rsplit("\n\n", 1)
    assert len(body) == rules.MAX_DESCRIPTION
    assert body.endswith("…")
    assert note == "附件未接收：a.exe"
    assert rules.description("", "", []) == "（见附件 / see the attachments）"


def test_files_over_the_count_are_dropped_not_the_mail() -> None:
    files = [ParsedAttachment(f"{i}.png", "image/png", PNG) for i in range(MAX_FILES + 1)]
    files.append(ParsedAttachment("run.bat", "application/octet-stream", b"echo"))

    kept, notes = rules.choose_files(files, "en")

    assert len(kept) == MAX_FILES
    assert notes[0] == f"Attachment not kept: {MAX_FILES}.png: over the limit on attachments"
    assert notes[1].startswith("Attachment not kept: run.bat")
