"""The text classifier: trained with scikit-learn, applied with plain numpy.

Training fits TF-IDF weights and a linear SVM; confidence comes from temperature scaling of
the SVM's scores, fitted on out-of-fold scores so it is not judged on what the model has seen.
Prediction needs only the vocabulary, the IDF weights and the coefficients, so a stored model
is a handful of numeric and string arrays (`to_bytes`), loaded without unpickling anything.
"""

from __future__ import annotations

import functools
import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from services.routing.classifier.features import terms

FORMAT_VERSION = 1
# The SVM's regularisation, chosen by cross-validation on the training part of the development
# data (`minqing bench routing --tune`).
DEFAULT_C = 2.0
# A term seen in one text only is noise to learn from, and would double the model's size.
MIN_DF = 2
CALIBRATION_FOLDS = 3


class TrainingError(ValueError):
    """The examples cannot train a model: too few, or a single label."""


@dataclass(frozen=True)
class Suggestion:
    label: str
    confidence: float
    # The terms of the text that pushed this label's score up most, strongest first.
    words: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: NDArray[np.float32]
    coef: NDArray[np.float32]  # labels × terms
    intercept: NDArray[np.float32]
    temperature: float

    @functools.cached_property
    def by_term(self) -> NDArray[np.float32]:
        """The coefficients term by term, so a text's few terms are read as contiguous rows."""
        return np.ascontiguousarray(self.coef.T)

    @functools.cached_property
    def names(self) -> list[str]:
        """Column → term, the vocabulary the other way round."""
        names = [""] * len(self.vocabulary)
        for name, i in self.vocabulary.items():
            names[i] = name
        return names

    def scores(
        self, text: str
    ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64]]:
        """The labels' scores, and the text's known terms with their TF-IDF weights."""
        vocabulary = self.vocabulary
        known = [(vocabulary[t], n) for t, n in Counter(terms(text)).items() if t in vocabulary]
        columns = np.fromiter((i for i, _ in known), dtype=np.intp, count=len(known))
        # Sublinear term frequency, IDF, unit length: what TfidfVectorizer did at training.
        tf = 1.0 + np.log(np.fromiter((n for _, n in known), dtype=np.float64, count=len(known)))
        weights = tf * self.idf[columns]
        norm = float(np.linalg.norm(weights))
        if norm > 0:
            weights /= norm
        scores = weights @ self.by_term[columns] + self.intercept
        return scores.astype(np.float64), columns, weights

    def suggest(self, text: str, top: int = 3, words: int = 5) -> list[Suggestion]:
        """The `top` likeliest labels with calibrated confidence and the words behind each."""
        scores, columns, weights = self.scores(text)
        if len(columns):
            confidence = softmax(scores / self.temperature)
        else:
            # Not one known word: the intercepts alone would look sure of the commonest label.
            confidence = np.full(len(self.labels), 1 / len(self.labels))
        order = np.argsort(-confidence)[:top]
        names = self.names
        suggestions = []
        for k in order:
            contribution = self.coef[k, columns] * weights
            ranked = [
                names[int(columns[i])]
                for i in np.argsort(-contribution)[: 3 * words]
                if contribution[i] > 0
            ]
            suggestions.append(
                Suggestion(
                    label=self.labels[k],
                    confidence=round(float(confidence[k]), 4),
                    words=readable(ranked)[:words],
                )
            )
        return suggestions

    def predict(self, text: str) -> str:
        scores, _, _ = self.scores(text)
        return self.labels[int(np.argmax(scores))]

    def to_bytes(self) -> bytes:
        """Arrays of numbers and strings only, so loading never runs code (no pickle)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format_version=np.array(FORMAT_VERSION),
            labels=np.array(self.labels, dtype=np.str_),
            vocabulary=np.array(self.names, dtype=np.str_),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
            temperature=np.array(self.temperature),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Model:
        """ValueError for anything but what `to_bytes` writes, object arrays included."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            try:
                if int(arrays["format_version"]) != FORMAT_VERSION:
                    raise ValueError(f"classifier model format {int(arrays['format_version'])}")
                labels = tuple(str(label) for label in arrays["labels"])
                names = [str(n) for n in arrays["vocabulary"]]
                return cls(
                    labels=labels,
                    vocabulary={name: i for i, name in enumerate(names)},
                    idf=arrays["idf"].astype(np.float32),
                    coef=arrays["coef"].astype(np.float32),
                    intercept=arrays["intercept"].astype(np.float32),
                    temperature=float(arrays["temperature"]),
                )
            except KeyError as exc:
                raise ValueError(f"not a classifier model: {exc}") from None


def readable(ranked: Sequence[str]) -> tuple[str, ...]:
    """The terms in order, less single characters that a longer term among them contains:
    a dispatcher reads 污水 more easily than 污水, 水."""
    longer = [t for t in ranked if len(t) > 1]
    return tuple(t for t in ranked if len(t) > 1 or not any(t in w for w in longer))


def softmax(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(scores - scores.max())
    result: NDArray[np.float64] = shifted / shifted.sum()
    return result


def train(texts: Sequence[str], labels: Sequence[str], c: float = DEFAULT_C) -> Model:
    """A model fitted to the examples; TrainingError when they cannot make one."""
    return fit(texts, labels, c)[0]


def fit(
    texts: Sequence[str], labels: Sequence[str], c: float = DEFAULT_C
) -> tuple[Model, dict[str, float]]:
    """The model, and its cross-validated accuracy and macro F1 on these examples."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    counts = Counter(labels)
    if len(counts) < 2:
        raise TrainingError("training needs examples of at least two labels")
    if len(texts) != len(labels) or len(texts) < 2 * CALIBRATION_FOLDS:
        raise TrainingError(f"training needs at least {2 * CALIBRATION_FOLDS} examples")
    vectorizer = TfidfVectorizer(
        analyzer=terms, sublinear_tf=True, min_df=MIN_DF if len(texts) >= 50 else 1
    )
    matrix = vectorizer.fit_transform(texts)
    svm = LinearSVC(C=c).fit(matrix, labels)
    coef, intercept = _per_label(svm.coef_, svm.intercept_)
    vocabulary = {str(term): int(i) for term, i in vectorizer.vocabulary_.items()}
    temperature, metrics = _calibrate(matrix, list(labels), c, counts)
    model = Model(
        labels=tuple(str(label) for label in svm.classes_),
        vocabulary=vocabulary,
        idf=vectorizer.idf_.astype(np.float32),
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        temperature=temperature,
    )
    return model, metrics


def _per_label(
    coef: NDArray[np.float64], intercept: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One row per label: with two labels the SVM keeps one row, for the second label."""
    if coef.shape[0] == 1:
        return np.vstack([-coef[0] / 2, coef[0] / 2]), np.array(
            [-intercept[0] / 2, intercept[0] / 2]
        )
    return coef, intercept


def _calibrate(
    matrix: object, labels: list[str], c: float, counts: Counter[str]
) -> tuple[float, dict[str, float]]:
    """The softmax temperature that best predicts out-of-fold labels from SVM scores, and
    those out-of-fold predictions' accuracy and macro F1 (none when too few examples)."""
    from scipy.optimize import minimize_scalar
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    folds = min(CALIBRATION_FOLDS, min(counts.values()))
    if folds < 2:
        return 1.0, {}
    scores = cross_val_predict(
        LinearSVC(C=c),
        matrix,
        labels,
        cv=StratifiedKFold(folds, shuffle=True, random_state=0),
        method="decision_function",
    )
    if scores.ndim == 1:
        scores = np.column_stack([-scores / 2, scores / 2])
    ordered = sorted(counts)
    truth = np.array([ordered.index(label) for label in labels])
    predicted = scores.argmax(axis=1)
    metrics = {
        "cv_accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "cv_macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
    }

    def loss(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(truth)), truth].mean())

    best = minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded")
    return float(math.exp(best.x)), metrics
