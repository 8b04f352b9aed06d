"""The figures, computed from the read model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.reporting.models import CaseFact


@dataclass(frozen=True)
class Summary:
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]


def summary(session: Session) -> Summary:
    """Counts over every case reporting has seen submitted."""
    submitted = CaseFact.submitted_at.is_not(None)
    return Summary(
        total=session.scalar(select(func.count()).where(submitted)) or 0,
        by_channel=_count_by(session, CaseFact.channel, submitted),
        by_status=_count_by(session, CaseFact.status, submitted),
        by_department=_count_by(
            session, CaseFact.department_code, submitted, CaseFact.department_code.is_not(None)
        ),
    )


def _count_by(
    session: Session, column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(key): int(count) for key, count in rows}
