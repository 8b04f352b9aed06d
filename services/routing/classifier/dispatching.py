"""Dispatching with the classifier: confident → the department; unsure → the dispatcher."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from services.kernel.work import Work
from services.routing.classifier.model import Suggestion
from services.routing.classifier.store import model_cache

# The catalogue's last resorts, which a trained model replaces: the keywords a text happens to
# mention, a tie between them, or nothing. A category the citizen or operator named, or a rule
# of the catalogue's, is a deliberate choice and stands.
GUESSES = ("keywords:", "keywords tie", "no rule matched")


class RuledDecision(Protocol):
    """What the catalogue's rules decided (dispatch.Decision): a dataclass with at least these."""

    @property
    def department_code(self) -> str | None: ...

    @property
    def matched_by(self) -> str: ...


D = TypeVar("D", bound=RuledDecision)


def suggestions_json(
    version: int, threshold: float, suggestions: list[Suggestion]
) -> dict[str, Any]:
    """What is stored on the work order and shown to the dispatcher."""
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


def refine(
    work: Work, ruled: D, departments: Mapping[str, str], description: str
) -> tuple[D, dict[str, Any] | None]:
    """The rules' decision, or the newest trained model's in place of a keyword guess; and the
    model's suggestions to keep on the work order (None when the rules' decision stands).

    With no model yet (cold start) the rules' decision stands exactly as it is.
    """
    if not ruled.matched_by.startswith(GUESSES):
        return ruled, None
    loaded = model_cache.get(work.session)
    if loaded is None:
        return ruled, None
    threshold = work.settings.dispatch_confidence
    suggestions = [s for s in loaded.model.suggest(description) if s.label in departments]
    stored = suggestions_json(loaded.version, threshold, suggestions)
    chosen = choose(suggestions, departments, threshold)
    if chosen is None:
        best = f"{suggestions[0].label} {suggestions[0].confidence:.2f}" if suggestions else "none"
        matched_by = f"classifier v{loaded.version} unsure: {best}"
    else:
        matched_by = f"classifier v{loaded.version}: {chosen.confidence:.2f}"
    code = chosen.label if chosen else None
    decided: D = dataclasses.replace(ruled, department_code=code, matched_by=matched_by)  # type: ignore[type-var]
    return decided, stored
