"""Files a citizen sends with a case, from any channel: limits, allowed types, storage."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import cast

from sqlalchemy import Table, insert

from services.intake.models import Attachment
from services.kernel.clock import utcnow
from services.kernel.language import InvalidValue
from services.kernel.work import Work

MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = 200

# The types a citizen's evidence comes in, by the name's extension, each with the bytes its
# content must start with: a file is accepted only when its name and its content agree.
_ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    ".txt": ("text/plain", ()),
    ".mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    ".amr": ("audio/amr", (b"#!AMR",)),
    ".m4a": ("audio/mp4", ()),
    ".mp4": ("video/mp4", ()),
}
ALLOWED_EXTENSIONS = tuple(sorted(_ALLOWED))
_INSERT = insert(cast(Table, Attachment.__table__))


@dataclass(frozen=True)
class IncomingFile:
    """A file as a channel received it."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


class AttachmentRefused(InvalidValue):
    """A file, or the files together, break a limit; `index` is the file's place, if one."""

    def __init__(self, en: str, zh: str, index: int | None = None) -> None:
        super().__init__(en, zh)
        self.index = index


def safe_filename(raw: str) -> str:
    """The name without any folder part or control characters, at most MAX_NAME_LENGTH long."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    name = name.strip().lstrip(".")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        keep = MAX_NAME_LENGTH - len(extension) - 1
        name = f"{stem[:keep]}.{extension}" if dot and keep > 0 else name[:MAX_NAME_LENGTH]
    return name or "attachment"


def check_file(file: IncomingFile, index: int | None = None) -> CheckedFile:
    """The file with its type, or AttachmentRefused saying what is wrong with it."""
    name = safe_filename(file.filename)
    extension = PurePosixPath(name).suffix.lower()
    if extension not in _ALLOWED:
        raise AttachmentRefused(
            f"{name}: files of this type are not accepted; send one of "
            + ", ".join(ALLOWED_EXTENSIONS),
            f"{name}：不接受这种类型的文件，可以上传：" + "、".join(ALLOWED_EXTENSIONS),
            index,
        )
    if not file.data:
        raise AttachmentRefused(f"{name}: the file is empty", f"{name}：文件是空的", index)
    if len(file.data) > MAX_FILE_BYTES:
        raise AttachmentRefused(
            f"{name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
            f"{name}：超过 {MAX_FILE_BYTES // (1024 * 1024)} MB",
            index,
        )
    content_type, signatures = _ALLOWED[extension]
    if signatures and not file.data.startswith(signatures):
        raise AttachmentRefused(
            f"{name}: the content is not a {extension} file",
            f"{name}：文件内容与扩展名 {extension} 不符",
            index,
        )
    return CheckedFile(name, content_type, file.data)


def check_files(files: Sequence[IncomingFile]) -> list[CheckedFile]:
    """Every file checked, and the limits on their count and total size."""
    if len(files) > MAX_FILES:
        raise AttachmentRefused(
            f"at most {MAX_FILES} files, got {len(files)}",
            f"最多 {MAX_FILES} 个文件，收到 {len(files)} 个",
        )
    if sum(len(f.data) for f in files) > MAX_TOTAL_BYTES:
        raise AttachmentRefused(
            f"the files together are larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MB",
            f"文件合计超过 {MAX_TOTAL_BYTES // (1024 * 1024)} MB",
        )
    return [check_file(f, i) for i, f in enumerate(files)]


def store(work: Work, case_id: uuid.UUID, files: Sequence[CheckedFile], source: str) -> None:
    """Keep the files with the case, in the caller's transaction.

    `source` says how they came: "submission", "supplement" (material added later), "email".
    """
    if not files:
        return
    now = utcnow()
    work.session.execute(
        _INSERT,
        [
            {
                "id": uuid.uuid4(),
                "case_id": case_id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": len(f.data),
                "sha256": hashlib.sha256(f.data).hexdigest(),
                "data": f.data,
                "source": source,
                "received_at": now,
            }
            for f in files
        ],
    )
