"""Scoring a model on labelled examples, and reading labelled files."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.routing.classifier.model import Model, train


class ExamplesError(ValueError):
    """A labelled file cannot be read as examples."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    ms_per_case: float
    cases: int

    def line(self) -> str:
        return (
            f"accuracy={self.accuracy:.4f} macro_f1={self.macro_f1:.4f} "
            f"ms_per_case={self.ms_per_case:.3f}"
        )


def read_examples(path: Path) -> list[Example]:
    """A `.csv` file with a header naming `text` and `label`, or else `label<TAB>text` lines."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            return _from_csv(handle.read().splitlines())
        return _from_tsv(handle.read().splitlines())


def _from_csv(lines: list[str]) -> list[Example]:
    reader = csv.DictReader(lines)
    if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
        raise ExamplesError("a CSV file needs a header with the columns text and label")
    examples = []
    for row in reader:
        text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
        if not text or not label:
            raise ExamplesError(f"line {reader.line_num}: text and label must both be given")
        examples.append(Example(text, label))
    return examples


def _from_tsv(lines: list[str]) -> list[Example]:
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, tab, text = line.partition("\t")
        if not tab or not label.strip() or not text.strip():
            raise ExamplesError(f"line {number}: expected label<TAB>text")
        examples.append(Example(text.strip(), label.strip()))
    return examples


def score(model: Model, examples: Sequence[Example]) -> Scores:
    """Accuracy and macro F1, predicting one case at a time as dispatch does."""
    started = time.perf_counter()
    predicted = [model.predict(e.text) for e in examples]
    elapsed = time.perf_counter() - started
    truth = [e.label for e in examples]
    return Scores(
        accuracy=sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(examples),
        macro_f1=macro_f1(truth, predicted),
        ms_per_case=1000 * elapsed / len(examples),
        cases=len(examples),
    )


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """The mean over the true labels of each label's F1."""
    f1s = []
    for label in sorted(set(truth)):
        hits = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        claimed = sum(p == label for p in predicted)
        actual = sum(t == label for t in truth)
        f1s.append(2 * hits / (claimed + actual) if claimed + actual else 0.0)
    return sum(f1s) / len(f1s)


def evaluate(training: Sequence[Example], test: Sequence[Example]) -> Scores:
    """Train a fresh model on one set and score it on the other."""
    model = train([e.text for e in training], [e.label for e in training])
    return score(model, test)
