"""The knowledge base: answers an operator finds while the caller waits, and keeps up to date.

Search needs no outside service: Chinese text is cut into overlapping character pairs (bigrams),
which match words without a dictionary; Latin letters and digits count as whole words. Entries
are ranked BM25-style, a question or keyword match weighing more than one in the answer.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.intake.deps import IntakeWork
from services.intake.models import KnowledgeEntry
from services.kernel.auth import Staff, require
from services.kernel.clock import utcnow
from services.kernel.language import InvalidValue

router = APIRouter(tags=["intake"])
# Who may search (anyone answering calls or reviewing them) and who may change the answers. The
# answers are what the county says to the public, so the centre's shift supervisors and the
# administrators keep them, not every operator.
READERS = ("operator", "supervisor", "admin")
EDITORS = ("supervisor", "admin")
FIELD_WEIGHTS = {"question": 3.0, "keywords": 3.0, "category": 2.0, "answer": 1.0}
_K1 = 1.2
_B = 0.5
# Han ideographs (with extensions A and the compatibility block), and Latin letters and digits.
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def terms(text: str) -> list[str]:
    """Search terms of `text`: bigrams of each run of Chinese characters, Latin words whole."""
    found: list[str] = []
    for run in _TOKEN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _HAN.match(run) and len(run) > 1:
            found.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            found.append(run)
    return found


@dataclass(frozen=True)
class Searchable:
    id: int
    question: str
    answer: str
    keywords: str
    category: str | None


class SearchIndex:
    """The weighted term counts of every entry, and how many entries hold each term."""

    def __init__(self, entries: Iterable[Searchable]) -> None:
        self._weights: dict[int, dict[str, float]] = {}
        self._questions: dict[int, str] = {}
        documents: Counter[str] = Counter()
        for entry in entries:
            weights: dict[str, float] = {}
            for field, weight in FIELD_WEIGHTS.items():
                for term in terms(getattr(entry, field) or ""):
                    weights[term] = weights.get(term, 0.0) + weight
            self._weights[entry.id] = weights
            self._questions[entry.id] = _squeeze(entry.question)
            documents.update(weights.keys())
        self._documents = documents
        lengths = [sum(w.values()) for w in self._weights.values()]
        self._average_length = (sum(lengths) / len(lengths)) if lengths else 1.0

    def search(self, query: str, limit: int = 10) -> list[tuple[int, float]]:
        """Entry ids and scores, best first; only entries sharing a term with the query."""
        wanted = set(terms(query))
        if not wanted:
            return []
        count = len(self._weights)
        phrase = _squeeze(query)
        scored = []
        for entry_id, weights in self._weights.items():
            length = sum(weights.values()) or 1.0
            norm = _K1 * (1 - _B + _B * length / self._average_length)
            score = 0.0
            for term in wanted:
                tf = weights.get(term, 0.0)
                if tf:
                    df = self._documents[term]
                    idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
                    score += idf * tf * (_K1 + 1) / (tf + norm)
            if score and len(phrase) > 1 and phrase in self._questions[entry_id]:
                # The caller's words, verbatim in the question: that is the entry they mean.
                score *= 1.5
            if score:
                scored.append((entry_id, round(score, 4)))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:limit]


def _squeeze(text: str) -> str:
    return "".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).lower()))


class _IndexCache:
    """One search index per database, rebuilt when an entry is added or changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, tuple[tuple[int, datetime | None], SearchIndex]] = {}

    def get(self, session: Session) -> SearchIndex:
        key = str(session.get_bind().engine.url)
        version = session.execute(select(func.count(), func.max(KnowledgeEntry.updated_at))).one()
        stamp = (int(version[0]), version[1])
        with self._lock:
            cached = self._indexes.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = session.execute(
            select(
                KnowledgeEntry.id,
                KnowledgeEntry.question,
                KnowledgeEntry.answer,
                KnowledgeEntry.keywords,
                KnowledgeEntry.category,
            ).where(KnowledgeEntry.active.is_(True))
        )
        index = SearchIndex(Searchable(*row) for row in rows)
        with self._lock:
            self._indexes[key] = (stamp, index)
        return index


_index_cache = _IndexCache()


def search(session: Session, query: str, limit: int = 10) -> list[tuple[KnowledgeEntry, float]]:
    """Active entries matching `query`, best first, with their scores."""
    ranked = _index_cache.get(session).search(query, limit)
    if not ranked:
        return []
    rows = {
        e.id: e
        for e in session.scalars(
            select(KnowledgeEntry).where(KnowledgeEntry.id.in_([i for i, _ in ranked]))
        )
    }
    return [(rows[i], score) for i, score in ranked if i in rows and rows[i].active]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=2, max_length=500)
    answer: str = Field(min_length=2, max_length=5000)
    keywords: list[str] = Field(default_factory=list, max_length=30)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    active: bool = True

    @field_validator("keywords")
    @classmethod
    def _short_words(cls, words: list[str]) -> list[str]:
        cleaned = [w.strip() for w in words if w.strip()]
        if any(len(w) > 50 or re.search(r"[\s,，]", w) for w in cleaned):
            raise InvalidValue(
                "each keyword: at most 50 characters, without spaces or commas",
                "每个关键词最多 50 个字符，不含空格或逗号",
            )
        if len(" ".join(cleaned)) > 500:
            raise InvalidValue(
                "keywords: at most 500 characters in all", "关键词合计最多 500 个字符"
            )
        return cleaned


class EntryOut(BaseModel):
    id: int
    question: str
    answer: str
    keywords: list[str]
    category: str | None
    active: bool
    updated_at: datetime
    updated_by_name: str
    score: float | None = None


def entry_out(entry: KnowledgeEntry, score: float | None = None) -> EntryOut:
    return EntryOut(
        id=entry.id,
        question=entry.question,
        answer=entry.answer,
        keywords=entry.keywords.split(),
        category=entry.category,
        active=entry.active,
        updated_at=entry.updated_at,
        updated_by_name=entry.updated_by_name,
        score=score,
    )


Reader = Annotated[Staff, Depends(require(*READERS))]
Editor = Annotated[Staff, Depends(require(*EDITORS))]


@router.get("/api/v1/knowledge", response_model=list[EntryOut])
def search_knowledge(
    work: IntakeWork,
    _staff: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[EntryOut]:
    """Answers matching `q`, best first, each with its score; without `q`, the newest entries."""
    if q and q.strip():
        return [entry_out(entry, score) for entry, score in search(work.session, q, limit)]
    newest = work.session.scalars(
        select(KnowledgeEntry)
        .where(KnowledgeEntry.active.is_(True))
        .order_by(KnowledgeEntry.updated_at.desc(), KnowledgeEntry.id.desc())
        .limit(limit)
    )
    return [entry_out(entry) for entry in newest]


@router.get("/api/v1/knowledge/{entry_id}", response_model=EntryOut)
def read_entry(entry_id: int, work: IntakeWork, _staff: Reader) -> EntryOut:
    entry = work.session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise HTTPException(404, "no knowledge-base entry with that id")
    return entry_out(entry)


@router.post("/api/v1/knowledge", status_code=201, response_model=EntryOut)
def add_entry(body: EntryIn, work: IntakeWork, staff: Editor) -> EntryOut:
    """A new answer (supervisors and administrators)."""
    now = utcnow()
    entry = KnowledgeEntry(created_at=now)
    _fill(entry, body, staff, now)
    work.session.add(entry)
    work.session.flush()
    return entry_out(entry)


@router.put("/api/v1/knowledge/{entry_id}", response_model=EntryOut)
def replace_entry(entry_id: int, body: EntryIn, work: IntakeWork, staff: Editor) -> EntryOut:
    """Change an answer, or retire it with `"active": false` (supervisors and administrators)."""
    entry = work.session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise HTTPException(404, "no knowledge-base entry with that id")
    _fill(entry, body, staff, utcnow())
    return entry_out(entry)


def _fill(entry: KnowledgeEntry, body: EntryIn, staff: Staff, now: datetime) -> None:
    entry.question = body.question
    entry.answer = body.answer
    entry.keywords = " ".join(body.keywords)
    entry.category = body.category
    entry.active = body.active
    entry.updated_at = now
    entry.updated_by = staff.staff_id
    entry.updated_by_name = staff.name
