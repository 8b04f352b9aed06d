"""Dispatching with the classifier: confident → the department; unsure → the dispatcher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.kernel.work import Work
from services.routing.classifier.model import Suggestion
from services.routing.classifier.store import model_cache
from services.routing.dispatch import Rules, decide


@dataclass(frozen=True)
class LearnedDecision:
    department_code: str | None
    matched_by: str
    # What the dispatcher sees for the work order (stored on it); None when rules decided.
    suggestions: dict[str, Any] | None = None

    @property
    def needs_dispatcher(self) -> bool:
        return self.department_code is None


def suggestions_json(
    version: int, threshold: float, suggestions: list[Suggestion]
) -> dict[str, Any]:
    return {
        "model_version": version,
        "threshold": threshold,
        "suggestions": [
            {"department_code": s.label, "confidence": s.confidence, "words": list(s.words)}
            for s in suggestions
        ],
    }


def choose(
    suggestions: list[Suggestion], departments: Mapping[str, str], threshold: float
) -> Suggestion | None:
    """The top suggestion if it names a known department with enough confidence."""
    known = [s for s in suggestions if s.label in departments]
    if known and known[0].confidence >= threshold:
        return known[0]
    return None


def decide_case(
    work: Work,
    rules: Rules,
    departments: Mapping[str, str],
    category: str | None,
    description: str,
) -> LearnedDecision:
    """A category the citizen or operator named still wins; then the newest trained model;
    with no model yet, the catalogue's keyword rules exactly as before any training."""
    loaded = None if category in rules.by_category else model_cache.get(work.session)
    if loaded is None:
        ruled = decide(rules, category, description)
        return LearnedDecision(ruled.department_code, ruled.matched_by)
    threshold = work.settings.dispatch_confidence
    suggestions = [s for s in loaded.model.suggest(description) if s.label in departments]
    stored = suggestions_json(loaded.version, threshold, suggestions)
    chosen = choose(suggestions, departments, threshold)
    if chosen is None:
        best = f"{suggestions[0].label} {suggestions[0].confidence:.2f}" if suggestions else "none"
        return LearnedDecision(None, f"classifier v{loaded.version} unsure: {best}", stored)
    return LearnedDecision(
        chosen.label, f"classifier v{loaded.version}: {chosen.confidence:.2f}", stored
    )
