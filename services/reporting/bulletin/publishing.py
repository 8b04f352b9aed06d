"""Producing bulletins and keeping them: by the schedule, and on demand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.reporting.bulletin.gather import gather
from services.reporting.bulletin.periods import SCHEDULES, Schedule, due
from services.reporting.bulletin.store import ON_DEMAND, StoredBulletin, add_once, is_stored, stored
from services.reporting.kpis import Period


def publish_due(
    session: Session, now: datetime, schedules: tuple[Schedule, ...] = SCHEDULES
) -> list[StoredBulletin]:
    """Store each schedule's latest bulletin unless it already is; the ones stored now."""
    published = []
    for key, period in due(now, schedules):
        if is_stored(session, key):
            continue
        kind = key.partition(":")[0]
        bulletin = stored(kind, gather(session, period), now, key)
        if add_once(session, bulletin):
            published.append(bulletin)
    return published


def publish_now(session: Session, period: Period, now: datetime) -> StoredBulletin:
    """Store the period's bulletin as the read model stands now."""
    bulletin = stored(ON_DEMAND, gather(session, period), now)
    session.add(bulletin)
    session.flush()
    return bulletin
