"""Training and storing models: from a labelled file, or from the dispatchers' own decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from services.routing.catalogue import load_catalogue, sync_catalogue
from services.routing.classifier.evaluation import Example
from services.routing.classifier.model import TrainingError, fit
from services.routing.classifier.store import labels_as_departments, save_model
from services.routing.models import ClassifierModel, Department, DispatchTerm, WorkOrder

# How a work order dispatched or re-dispatched by hand is marked: its `matched_by` starts so
# (the dispatcher console writes "dispatcher:<who>"). Those are the decisions we learn from.
BY_DISPATCHER = "dispatcher"
# Retrain once this many decisions are newer than the newest model.
MIN_NEW_DECISIONS = 50


@dataclass(frozen=True)
class Trained:
    version: int
    examples: int
    labels: tuple[str, ...]
    metrics: dict[str, float]


def train_from_examples(session: Session, examples: Sequence[Example], source: str) -> Trained:
    """Map labels to department codes (a category becomes its department), train, store.

    TrainingError if a label is neither a department code nor a catalogue category.
    """
    departments, by_category = _catalogue(session)
    labels, unknown = labels_as_departments([e.label for e in examples], departments, by_category)
    if unknown:
        raise TrainingError(
            "labels that are neither a department code nor a category: " + ", ".join(unknown[:10])
        )
    model, metrics = fit([e.text for e in examples], labels)
    version = save_model(session, model, source, len(examples), metrics)
    return Trained(version, len(examples), model.labels, metrics)


def _catalogue(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    if not session.scalar(select(func.count()).select_from(Department)):
        # A fresh database: routing has not yet loaded its catalogue.
        sync_catalogue(session, load_catalogue())
        session.flush()
    departments = dict(
        session.execute(select(Department.code, Department.name).where(Department.active.is_(True)))
        .tuples()
        .all()
    )
    by_category = dict(
        session.execute(
            select(DispatchTerm.term, DispatchTerm.department_code).where(
                DispatchTerm.term_type == "category",
                DispatchTerm.department_code.in_(departments),
            )
        )
        .tuples()
        .all()
    )
    return departments, by_category


def _by_dispatcher() -> ColumnElement[bool]:
    return and_(
        WorkOrder.matched_by.startswith(BY_DISPATCHER), WorkOrder.department_code.is_not(None)
    )


def dispatcher_decisions(session: Session) -> list[Example]:
    """Every work order a dispatcher sent by hand: its text and the department chosen."""
    rows = (
        session.execute(
            select(WorkOrder.description, WorkOrder.department_code)
            .where(_by_dispatcher())
            .order_by(WorkOrder.updated_at)
        )
        .tuples()
        .all()
    )
    return [Example(text, code) for text, code in rows if code is not None]


def new_decisions(session: Session) -> int:
    """Decisions beyond those the newest model trained on decisions has learned from.

    Counted rather than dated: a work order's later steps change its `updated_at`, not the
    decision.
    """
    learned = session.scalar(
        select(ClassifierModel.examples)
        .where(ClassifierModel.source == "decisions")
        .order_by(ClassifierModel.version.desc())
        .limit(1)
    )
    total = session.scalar(select(func.count()).select_from(WorkOrder).where(_by_dispatcher()))
    return (total or 0) - (learned or 0)


def train_from_decisions(session: Session) -> Trained:
    return train_from_examples(session, dispatcher_decisions(session), "decisions")


def retrain_if_due(session: Session, minimum: int = MIN_NEW_DECISIONS) -> Trained | None:
    """Retrain from the decisions when at least `minimum` are newer than the newest model."""
    if new_decisions(session) < minimum:
        return None
    try:
        return train_from_decisions(session)
    except TrainingError:
        # Decisions for one department only, say: nothing to learn yet; the next run retries.
        return None
