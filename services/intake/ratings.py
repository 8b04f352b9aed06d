"""The citizen rates how a resolved case was handled (评价): once, from any channel."""

from __future__ import annotations

from datetime import datetime

from services.intake.models import Case, Rating, TimelineEntry
from services.kernel.clock import utcnow
from services.kernel.db import upsert_insert
from services.kernel.events.contracts import CaseRated, Channel, RatingValue
from services.kernel.language import InvalidValue
from services.kernel.work import Work

RATINGS: tuple[RatingValue, ...] = ("satisfied", "basically-satisfied", "dissatisfied")
MAX_COMMENT_LENGTH = 500
RATED = "rated"


class CannotRate(InvalidValue):
    """The case cannot take a rating now; `reason` names why for API clients."""

    reason = "cannot_rate"


class NotResolvedYet(CannotRate):
    reason = "not_resolved"

    def __init__(self) -> None:
        super().__init__("the case can be rated once it is resolved", "诉求办结后才能评价")


class AlreadyRated(CannotRate):
    reason = "already_rated"

    def __init__(self) -> None:
        super().__init__("the case has already been rated", "该诉求已经评价过")


def may_rate(status: str) -> bool:
    """Only a resolved case is rated: the citizen judges the department's answer."""
    return status == "resolved"


def rate(
    work: Work, case: Case, channel: Channel, rating: RatingValue, comment: str | None
) -> datetime:
    """Record the rating, put it on the timeline and tell the other services; when it was rated.

    Raises NotResolvedYet or AlreadyRated; of two ratings sent at once, the second is refused.
    """
    if not may_rate(case.status):
        raise NotResolvedYet()
    now = utcnow()
    session = work.session
    claimed = session.execute(
        upsert_insert(session.get_bind())(Rating)
        .values(case_id=case.id, rating=rating, comment=comment, channel=channel, rated_at=now)
        .on_conflict_do_nothing()
        .returning(Rating.case_id)
    ).first()
    if claimed is None:
        raise AlreadyRated()
    session.add(TimelineEntry(case_id=case.id, occurred_at=now, status=RATED, note=comment))
    case.updated_at = now
    work.publish(
        CaseRated(
            case_id=case.id,
            tracking_no=case.tracking_no,
            channel=channel,
            rating=rating,
            comment=comment,
            department_code=case.department_code,
            rated_at=now,
        ),
        case_id=case.id,
    )
    return now
