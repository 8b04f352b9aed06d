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
from sqlalchemy import ColumnElement, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from services.intake.deps import IntakeWork
from services.intake.models import Case, DuplicateLink
from services.intake.similarity import (
    Place,
    cells_within,
    normalise_address,
    same_place,
    text_similarity,
)
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
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
# Cases one sweep checks at most: a second's worth at the busiest, in one transaction.
SWEEP_SIZE = 500
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
    same_contact = case.sealed == other.sealed and (
        _equal(case.phone_fingerprint, other.phone_fingerprint)
        or _equal(case.email_fingerprint, other.email_fingerprint)
    )
    # The text is compared only when the cheaper facts make a match possible.
    if same_contact and (score := _similarity(case, other)) >= SIMILAR_TEXT:
        return Match("same-contact", score)
    if (
        case.category is not None
        and case.category == other.category
        and same_place(case.place, other.place, NEAR_METRES)
    ):
        return Match("same-place", _similarity(case, other))
    return None


def _similarity(case: Facts, other: Facts) -> float:
    return round(text_similarity(case.description, other.description), 3)


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


def flag_new_cases(work: Work, limit: int = SWEEP_SIZE) -> int:
    """Link the cases accepted since the last sweep to the week's cases they may repeat.

    Runs every second or so, not per event: a sweep compares a second's cases in a handful of
    statements, where an event handler paid a transaction and two queries per case. Of several
    intake processes, each sweeps other cases (rows locked, locked ones skipped). Returns how
    many cases it checked.
    """
    session = work.session
    fresh = [
        _candidate(row)
        for row in session.execute(
            select(*_COLUMNS)
            .where(Case.duplicates_checked.is_(False))
            .order_by(Case.submitted_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ]
    if not fresh:
        return 0
    session.execute(
        update(Case).where(Case.id.in_([c.case_id for c in fresh])).values(duplicates_checked=True)
    )
    linkable = [c for c in fresh if c.status not in _NOT_LINKED]
    pool = _Pool(_candidates_for(work, linkable))
    for case in linkable:
        found = []
        for other in pool.sharing(case)[:MAX_CANDIDATES]:
            match = judge(case.facts, other.facts)
            if match is not None:
                found.append((other, match))
        for other, match in strongest(found):
            _link(work, case, other, match)
    return len(fresh)


class _Pool:
    """The cases a sweep compares with, found by what they may share with a case."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        # Newest first, as the query gave them; each key keeps that order.
        self._by_key: dict[tuple[str, str], list[Candidate]] = {}
        for other in candidates:
            for key in _share_keys(other.facts, placed_only=False):
                self._by_key.setdefault(key, []).append(other)

    def sharing(self, case: Candidate) -> list[Candidate]:
        """The others within the window sharing a contact, or a category when `case` has a
        place: what `_candidates_for` asks the database for, case by case. Newest first."""
        seen: dict[uuid.UUID, Candidate] = {}
        for key in _share_keys(case.facts, placed_only=True):
            for other in self._by_key.get(key, ()):
                if (
                    other.case_id != case.case_id
                    and abs(case.submitted_at - other.submitted_at) <= WINDOW
                ):
                    seen.setdefault(other.case_id, other)
        return sorted(seen.values(), key=lambda c: c.submitted_at, reverse=True)


def _share_keys(facts: Facts, *, placed_only: bool) -> list[tuple[str, str]]:
    keys = []
    if facts.phone_fingerprint is not None:
        keys.append(("phone", facts.phone_fingerprint))
    if facts.email_fingerprint is not None:
        keys.append(("email", facts.email_fingerprint))
    if facts.category is not None and (_placed(facts) or not placed_only):
        keys.append(("category", facts.category))
    return keys


def _placed(facts: Facts) -> bool:
    return bool(facts.place.address or facts.place.point)


def _candidates_for(work: Work, cases: Sequence[Candidate]) -> list[Candidate]:
    """Every case that may repeat one of `cases`, newest first, in one query.

    The database narrows a category to the cases near a case's point or at its address: a busy
    category's week read whole every second would cost more than all the comparisons.
    """
    phones = {c.facts.phone_fingerprint for c in cases} - {None}
    emails = {c.facts.email_fingerprint for c in cases} - {None}
    shares: list[ColumnElement[bool]] = []
    if phones:
        shares.append(Case.phone_fingerprint.in_(phones))
    if emails:
        shares.append(Case.email_fingerprint.in_(emails))
    shares.extend(_same_place_shares(cases))
    if not shares:
        return []
    earliest = min(c.submitted_at for c in cases) - WINDOW
    latest = max(c.submitted_at for c in cases) + WINDOW
    rows = work.session.execute(
        select(*_COLUMNS)
        .where(
            or_(*shares),
            Case.submitted_at.between(earliest, latest),
            Case.status.not_in(_NOT_LINKED),
        )
        .order_by(Case.submitted_at.desc())
        .limit(MAX_CANDIDATES * len(cases))
    )
    return [_candidate(row) for row in rows]


def _same_place_shares(cases: Sequence[Candidate]) -> list[ColumnElement[bool]]:
    """Conditions for a category's cases that `same_place` may accept: in a grid cell near one
    of the points, or at one of the addresses once normalised (Case.address_key).

    Pairs in one `IN` each, so that the statement's shape is the same every sweep and is
    compiled once, however many cases a sweep checks.
    """
    cells: set[tuple[str, str]] = set()
    addresses: set[tuple[str, str]] = set()
    for case in cases:
        facts = case.facts
        if facts.category is None:
            continue
        if facts.place.point is not None:
            near = cells_within(*facts.place.point, NEAR_METRES)
            cells.update((facts.category, cell) for cell in near)
        if facts.place.address and (key := normalise_address(facts.place.address)):
            addresses.add((facts.category, key))
    shares: list[ColumnElement[bool]] = []
    if cells:
        shares.append(tuple_(Case.category, Case.grid_cell).in_(sorted(cells)))
    if addresses:
        shares.append(tuple_(Case.category, Case.address_key).in_(sorted(addresses)))
    return shares


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
    return open_links(work.session, limit)


def open_links(session: Session, limit: int) -> list[DuplicateOut]:
    """Open possible duplicates, oldest first, neither of whose cases is closed or merged."""
    case, candidate = aliased(Case), aliased(Case)
    rows = session.execute(
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
    link = dismiss(session, link_id, staff)
    return _out(
        link, session.get_one(Case, link.case_id), session.get_one(Case, link.candidate_case_id)
    )


def dismiss(session: Session, link_id: int, staff: Staff) -> DuplicateLink:
    """Close the open link: the two are different matters (404 or 409 as open_link)."""
    link = open_link(session, link_id)
    link.status, link.decided_at, link.decided_by = DISMISSED, utcnow(), staff.staff_id
    return link


def open_link(session: Session, link_id: int) -> DuplicateLink:
    """The open link, locked for the dispatcher's decision; 404 or 409 otherwise."""
    link = session.get(DuplicateLink, link_id, with_for_update=True)
    if link is None:
        raise HTTPException(404, "no possible duplicate with that id")
    if link.status != OPEN:
        raise HTTPException(409, f"this possible duplicate is already {link.status}")
    return link
