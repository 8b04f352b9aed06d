"""What files a case accepts: types whose content matches their name, within the limits."""

from __future__ import annotations

import pytest

from services.intake.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES,
    AttachmentRefused,
    IncomingFile,
    check_file,
    check_files,
    safe_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
PDF = b"%PDF-1.7\n..."


def test_a_picture_and_a_document_are_accepted_with_their_types() -> None:
    checked = check_files([IncomingFile("现场.PNG", PNG), IncomingFile("合同.pdf", PDF)])

    assert [(f.filename, f.content_type) for f in checked] == [
        ("现场.PNG", "image/png"),
        ("合同.pdf", "application/pdf"),
    ]


def test_a_program_is_refused_by_its_type() -> None:
    with pytest.raises(AttachmentRefused, match="not accepted"):
        check_file(IncomingFile("setup.exe", b"MZ\x90\x00"))


def test_a_file_whose_content_is_not_what_its_name_says_is_refused() -> None:
    with pytest.raises(AttachmentRefused, match=r"not a \.jpg file") as refused:
        check_files([IncomingFile("a.png", PNG), IncomingFile("photo.jpg", b"MZ\x90\x00")])
    assert refused.value.index == 1


def test_empty_and_oversized_files_are_refused() -> None:
    with pytest.raises(AttachmentRefused, match="empty"):
        check_file(IncomingFile("a.pdf", b""))
    with pytest.raises(AttachmentRefused, match="larger than"):
        check_file(IncomingFile("a.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES))


def test_too_many_files_are_refused_whatever_they_are() -> None:
    with pytest.raises(AttachmentRefused, match=f"at most {MAX_FILES}"):
        check_files([IncomingFile(f"{n}.png", PNG) for n in range(MAX_FILES + 1)])


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\王\\照片.jpg", "照片.jpg"),
        ("a\x00b\x1f.png", "ab.png"),
        (".hidden.pdf", "hidden.pdf"),
        ("", "attachment"),
        ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
    ],
)
def test_a_filename_loses_folders_and_control_characters(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe
