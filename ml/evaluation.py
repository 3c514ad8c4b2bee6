"""Scoring any model on an evaluation set: metrics plus the per-message predictions.

The per-message part matters: comparing champion and challenger fairly (McNemar's exact
test) needs the paired correct/incorrect outcomes on the same messages, not two numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ml.metrics import classification_metrics, confusion
from schemas.common import ClassificationMetrics, Label

__all__ = ["BatchScorer", "Evaluation", "MessagePrediction", "evaluate", "labels_to_y"]


@runtime_checkable
class BatchScorer(Protocol):
    """Anything with a vectorised spam probability: `LoadedModel`, `FastScorer`."""

    def score_batch(self, texts: Sequence[str]) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True)
class MessagePrediction:
    index: int
    label: Label
    predicted: Label
    spam_probability: float

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


@dataclass(frozen=True)
class Evaluation:
    metrics: ClassificationMetrics
    y_true: npt.NDArray[np.int64]
    p_spam: npt.NDArray[np.float64]
    threshold: float

    @property
    def y_pred(self) -> npt.NDArray[np.int64]:
        return (self.p_spam >= self.threshold).astype(np.int64)

    @property
    def correct(self) -> npt.NDArray[np.bool_]:
        """Per-message correctness, aligned with the evaluation set (for McNemar)."""
        return np.asarray(self.y_pred == self.y_true)

    def confusion(self) -> tuple[int, int, int, int]:
        return confusion(self.y_true, self.y_pred)

    def predictions(self) -> list[MessagePrediction]:
        names: tuple[Label, Label] = ("ham", "spam")
        return [
            MessagePrediction(i, names[t], names[p], float(s))
            for i, (t, p, s) in enumerate(
                zip(self.y_true.tolist(), self.y_pred.tolist(), self.p_spam.tolist(), strict=True)
            )
        ]


Labels = Sequence[str] | Sequence[int] | npt.NDArray[np.int64]


def labels_to_y(labels: Labels) -> npt.NDArray[np.int64]:
    """'spam'/'ham' or 1/0 labels as an int array (1 = spam); anything else is an error."""
    codes = {"spam": 1, "ham": 0, 1: 1, 0: 0}
    try:
        return np.fromiter(
            (codes[lab.item() if isinstance(lab, np.generic) else lab] for lab in labels),
            dtype=np.int64,
            count=len(labels),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"labels must be 'spam'/'ham' or 1/0, got {exc.args[0]!r}") from None


def _probabilities(model: Any, texts: Sequence[str]) -> npt.NDArray[np.float64]:
    if isinstance(model, BatchScorer):
        return np.asarray(model.score_batch(texts), dtype=np.float64)
    if hasattr(model, "predict_proba"):  # a fitted sklearn pipeline
        return np.asarray(model.predict_proba(list(texts))[:, 1], dtype=np.float64)
    raise TypeError(f"cannot score with {type(model).__name__}: need score_batch or predict_proba")


def evaluate(
    model: Any,
    texts: Sequence[str],
    labels: Labels,
    *,
    threshold: float | None = None,
) -> Evaluation:
    """Score `texts` with a LoadedModel, FastScorer or sklearn pipeline and compare to labels.

    The threshold defaults to the model's own (`LoadedModel.threshold`), else 0.5.
    """
    if threshold is None:
        threshold = float(getattr(model, "threshold", 0.5))
    y = labels_to_y(labels)
    p = _probabilities(model, texts)
    return Evaluation(
        metrics=classification_metrics(y, p, threshold), y_true=y, p_spam=p, threshold=threshold
    )
