"""Models in routing's database, and the one dispatch is using, kept in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kernel.clock import utcnow
from services.routing.classifier.model import Model
from services.routing.models import ClassifierModel


@dataclass(frozen=True)
class Loaded:
    version: int
    model: Model


def save_model(
    session: Session,
    model: Model,
    source: str,
    examples: int,
    metrics: Mapping[str, float],
) -> int:
    """Store the model as the next version; the version."""
    version = (session.scalar(select(func.max(ClassifierModel.version))) or 0) + 1
    session.add(
        ClassifierModel(
            version=version,
            trained_at=utcnow(),
            source=source,
            examples=examples,
            labels=list(model.labels),
            metrics=dict(metrics),
            model=model.to_bytes(),
        )
    )
    session.flush()
    return version


def latest_version(session: Session) -> int | None:
    return session.scalar(select(func.max(ClassifierModel.version)))


class ModelCache:
    """The newest stored model, loaded once; the version is looked up at most every `ttl` s.

    A newer version stored by `minqing routing train` or the retraining task is picked up at
    the next look-up, by every routing process.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        # Per database, so tests with several databases in one process do not mix models.
        self._loaded: dict[str, tuple[float, Loaded | None]] = {}

    def get(self, session: Session) -> Loaded | None:
        key = str(session.get_bind().engine.url)
        with self._lock:
            cached = self._loaded.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        version = latest_version(session)
        current = cached[1] if cached is not None else None
        if version is not None and (current is None or current.version != version):
            blob = session.scalar(
                select(ClassifierModel.model).where(ClassifierModel.version == version)
            )
            assert blob is not None
            current = Loaded(version, Model.from_bytes(blob))
        elif version is None:
            current = None
        with self._lock:
            self._loaded[key] = (time.monotonic(), current)
        return current

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


model_cache = ModelCache()


def labels_as_departments(
    labels: Sequence[str], departments: Mapping[str, str], by_category: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Each label as a department code: a code stays, a catalogue category becomes its
    department. Returns the mapped labels and the labels that are neither, sorted."""
    mapped, unknown = [], set()
    for label in labels:
        code = label if label in departments else by_category.get(label)
        if code is None:
            unknown.add(label)
        mapped.append(code or label)
    return mapped, sorted(unknown)
