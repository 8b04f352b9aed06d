"""The citizen adds to a case they already have, whatever the channel."""

from __future__ import annotations

from collections.abc import Sequence

from services.intake import attachments
from services.intake.attachments import CheckedFile
from services.intake.models import Case, TimelineEntry
from services.kernel.clock import utcnow
from services.kernel.events.contracts import CaseSupplemented, Channel
from services.kernel.work import Work

SUPPLEMENTED = "supplemented"
# What the citizen's timeline shows of the text; the whole text travels in the event.
_NOTE_LENGTH = 500


def supplement(
    work: Work, case: Case, channel: Channel, text: str, files: Sequence[CheckedFile] = ()
) -> None:
    """Record the addition on the case's timeline, keep its files, and tell the other services."""
    now = utcnow()
    note = text if len(text) <= _NOTE_LENGTH else text[: _NOTE_LENGTH - 1] + "…"
    work.session.add(
        TimelineEntry(case_id=case.id, occurred_at=now, status=SUPPLEMENTED, note=note or None)
    )
    attachments.store(work, case.id, files, "supplement")
    case.updated_at = now
    work.publish(
        CaseSupplemented(
            case_id=case.id,
            tracking_no=case.tracking_no,
            channel=channel,
            text=text,
            attachments=len(files),
            supplemented_at=now,
        ),
        case_id=case.id,
    )
