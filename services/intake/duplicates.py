"""Possible duplicates: found after a case is accepted, listed for the dispatcher, or dismissed.

Two cases may be one matter when the same contact wrote much the same within a week, or when
a week's cases of one category come from the same place. Contacts are compared by their keyed
fingerprints (fingerprints.py), so a tip-off's sealed reporter is matched without being opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import aliased

from services.intake.deps import IntakeWork
from services.intake.models import Case, DuplicateLink
from services.intake.similarity import Place, same_place, text_similarity
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.consumer import RetryLater
from services.kernel.db import upsert_insert
from services.kernel.events.contracts import CaseDuplicateSuspected
from services.kernel.work import Work

Reason = Literal["same-contact", "same-place"]
OPEN, MERGED, DISMISSED = "open", "merged", "dismissed"
# The window: a citizen who repeats a matter within a week is chasing the same case.
WINDOW = timedelta(days=7)
# Bigram cosine (similarity.text_similarity) from which one contact's two texts count as one
# matter. Rewordings of one problem score 0.40-0.65 on our Chinese examples, the same person on
# another problem in the same words ("楼下的路灯/排水沟坏了半个月") under 0.15; tests/unit/
# test_similarity.py holds them. The dispatcher confirms every link, so a miss costs more than
# a false alarm: the threshold sits nearer the low end.
SIMILAR_TEXT = 0.3
# "Near the same place": about a village lane or a block of flats; map points picked on a phone
# are typically off by tens of metres, and two matters 500 m apart are rarely one.
NEAR_METRES = 200.0
# Enough for a busy category in a county's week; the newest are compared first.
MAX_CANDIDATES = 200
# Links a case gets at most, the strongest: a citizen who writes ten times in a week needs one
# decision from the dispatcher, not forty-five.
MAX_LINKS = 3
# Statuses whose cases are no longer worked on their own, so nothing is linked to them.
_NOT_LINKED = ("answered", "merged")


@dataclass(frozen=True)
class Facts:
    """What duplicate detection compares of a case."""

    description: str
    sealed: bool
    phone_fingerprint: str | None
    email_fingerprint: str | None
    category: str | None
    place: Place


@dataclass(frozen=True)
class Match:
    reason: Reason
    score: float


def judge(case: Facts, other: Facts) -> Match | None:
    """Whether `other` may be the same matter as `case`, and why; the score is text similarity.

    Same contact counts only between two tip-offs or two open cases: linking a tip-off to an
    open case by contact would tell whoever reads that case's contact who the reporter is.
    """
    score = round(text_similarity(case.description, other.description), 3)
    same_contact = case.sealed == other.sealed and (
        _equal(case.phone_fingerprint, other.phone_fingerprint)
        or _equal(case.email_fingerprint, other.email_fingerprint)
    )
    if same_contact and score >= SIMILAR_TEXT:
        return Match("same-contact", score)
    if (
        case.category is not None
        and case.category == other.category
        and same_place(case.place, other.place, NEAR_METRES)
    ):
        return Match("same-place", score)
    return None


def _equal(left: str | None, right: str | None) -> bool:
    return left is not None and left == right


@dataclass(frozen=True)
class Candidate:
    """A case as detection reads it."""

    case_id: uuid.UUID
    tracking_no: str
    submitted_at: datetime
    status: str
    facts: Facts


def strongest(
    found: list[tuple[Candidate, Match]], limit: int = MAX_LINKS
) -> list[tuple[Candidate, Match]]:
    """The best `limit` matches: same contact first, then the most alike, then the earliest."""
    return sorted(
        found,
        key=lambda f: (f[1].reason != "same-contact", -f[1].score, f[0].submitted_at),
    )[:limit]


# Only what detection compares, not whole rows: a busy category's week is many cases.
_COLUMNS = (
    Case.id,
    Case.tracking_no,
    Case.submitted_at,
    Case.status,
    Case.description,
    Case.sealed_contact.is_not(None),
    Case.phone_fingerprint,
    Case.email_fingerprint,
    Case.category,
    Case.address,
    Case.lat,
    Case.lon,
)


def _candidate(row: Sequence[Any]) -> Candidate:
    case_id, tracking_no, submitted_at, status, description, sealed, phone, email, *place = row
    category, address, lat, lon = place
    return Candidate(
        case_id,
        tracking_no,
        submitted_at,
        status,
        Facts(description, bool(sealed), phone, email, category, Place(address, lat, lon)),
    )


def flag(work: Work, case_id: uuid.UUID) -> None:
    """Link the case to the week's cases it may repeat, and tell the other services of each."""
    session = work.session
    row = session.execute(select(*_COLUMNS).where(Case.id == case_id)).first()
    if row is None:
        raise RetryLater(f"case {case_id} is not in intake's database")
    case = _candidate(row)
    facts = case.facts
    if case.status in _NOT_LINKED:
        return
    shares: list[ColumnElement[bool]] = []
    if facts.phone_fingerprint is not None:
        shares.append(Case.phone_fingerprint == facts.phone_fingerprint)
    if facts.email_fingerprint is not None:
        shares.append(Case.email_fingerprint == facts.email_fingerprint)
    if facts.category is not None and (facts.place.address or facts.place.point):
        shares.append(Case.category == facts.category)
    if not shares:
        return
    others = session.execute(
        select(*_COLUMNS)
        .where(
            or_(*shares),
            Case.id != case_id,
            Case.submitted_at.between(case.submitted_at - WINDOW, case.submitted_at + WINDOW),
            Case.status.not_in(_NOT_LINKED),
        )
        .order_by(Case.submitted_at.desc())
        .limit(MAX_CANDIDATES)
    )
    found = []
    for other in map(_candidate, others):
        match = judge(facts, other.facts)
        if match is not None:
            found.append((other, match))
    for other, match in strongest(found):
        _link(work, case, other, match)


def _link(work: Work, case: Candidate, other: Candidate, match: Match) -> None:
    # The later case is the possible duplicate of the earlier, whichever was checked first.
    older, newer = sorted((case, other), key=lambda c: (c.submitted_at, c.tracking_no))
    session = work.session
    inserted = session.execute(
        upsert_insert(session.get_bind())(DuplicateLink)
        .values(
            case_id=newer.case_id,
            candidate_case_id=older.case_id,
            reason=match.reason,
            score=match.score,
            status=OPEN,
            found_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(DuplicateLink.id)
    ).first()
    if inserted is None:
        return
    work.publish(
        CaseDuplicateSuspected(
            case_id=newer.case_id,
            tracking_no=newer.tracking_no,
            candidate_case_id=older.case_id,
            candidate_tracking_no=older.tracking_no,
            reason=match.reason,
            score=match.score,
        ),
        case_id=newer.case_id,
    )


router = APIRouter(tags=["intake"])
Dispatcher = Annotated[Staff, Depends(require("dispatcher"))]


class CaseSummary(BaseModel):
    """A case as the dispatcher compares it: the matter, never the person."""

    tracking_no: str
    kind: str
    category: str | None
    channel: str
    status: str
    department: str | None
    description: str
    address: str | None
    promised_date: date
    submitted_at: datetime


class DuplicateOut(BaseModel):
    id: int
    reason: str
    score: float
    status: str
    found_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    case: CaseSummary
    candidate: CaseSummary


def summary_of(case: Case) -> CaseSummary:
    return CaseSummary(
        tracking_no=case.tracking_no,
        kind=case.kind,
        category=case.category,
        channel=case.channel,
        status=case.status,
        department=case.department_name,
        description=case.description,
        address=case.address,
        promised_date=case.promised_date,
        submitted_at=case.submitted_at,
    )


def _out(link: DuplicateLink, case: Case, candidate: Case) -> DuplicateOut:
    return DuplicateOut(
        id=link.id,
        reason=link.reason,
        score=link.score,
        status=link.status,
        found_at=link.found_at,
        decided_at=link.decided_at,
        decided_by=link.decided_by,
        case=summary_of(case),
        candidate=summary_of(candidate),
    )


@router.get("/api/v1/duplicates", response_model=list[DuplicateOut])
def list_duplicates(
    work: IntakeWork,
    staff: Dispatcher,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DuplicateOut]:
    """Open possible duplicates, oldest first, for the dispatcher to merge or dismiss."""
    case, candidate = aliased(Case), aliased(Case)
    rows = work.session.execute(
        select(DuplicateLink, case, candidate)
        .join(case, case.id == DuplicateLink.case_id)
        .join(candidate, candidate.id == DuplicateLink.candidate_case_id)
        .where(
            DuplicateLink.status == OPEN,
            case.status.not_in(_NOT_LINKED),
            candidate.status.not_in(_NOT_LINKED),
        )
        .order_by(DuplicateLink.found_at, DuplicateLink.id)
        .limit(limit)
    ).tuples()
    return [_out(link, a, b) for link, a, b in rows]


@router.post("/api/v1/duplicates/{link_id}/dismiss", response_model=DuplicateOut)
def dismiss_duplicate(link_id: int, work: IntakeWork, staff: Dispatcher) -> DuplicateOut:
    """The dispatcher judged the two cases different matters: the link is closed."""
    session = work.session
    link = session.get(DuplicateLink, link_id, with_for_update=True)
    if link is None:
        raise HTTPException(404, "no possible duplicate with that id")
    if link.status != OPEN:
        raise HTTPException(409, f"this possible duplicate is already {link.status}")
    link.status, link.decided_at, link.decided_by = DISMISSED, utcnow(), staff.staff_id
    return _out(
        link, session.get_one(Case, link.case_id), session.get_one(Case, link.candidate_case_id)
    )
