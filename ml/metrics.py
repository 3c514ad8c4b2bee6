"""Classification metrics that stay honest on an 87% ham corpus.

Spam is the positive class. Ham false-positive rate is reported on its own because a
blocked legitimate message is the costly error for an SMS gateway.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from schemas.common import ClassificationMetrics

__all__ = ["Confusion", "classification_metrics", "confusion", "mean_sd"]


class Confusion(tuple[int, int, int, int]):
    """(tn, fp, fn, tp) with spam as the positive class."""

    @property
    def tn(self) -> int:
        return self[0]

    @property
    def fp(self) -> int:
        return self[1]

    @property
    def fn(self) -> int:
        return self[2]

    @property
    def tp(self) -> int:
        return self[3]


def confusion(y_true: npt.NDArray[np.int64], y_pred: npt.NDArray[np.int64]) -> Confusion:
    t = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    return Confusion(
        (int((~t & ~p).sum()), int((~t & p).sum()), int((t & ~p).sum()), int((t & p).sum()))
    )


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def classification_metrics(
    y_true: npt.NDArray[np.int64], p_spam: npt.NDArray[np.float64], threshold: float
) -> ClassificationMetrics:
    """Metrics of `p_spam >= threshold` against `y_true` (1 = spam), plus ROC and PR AUC."""
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(p_spam, dtype=np.float64)
    pred = (p >= threshold).astype(np.int64)
    tn, fp, fn, tp = confusion(y, pred)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    den = math.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    roc_auc = pr_auc = None
    if 0 < int(y.sum()) < len(y):
        from sklearn.metrics import average_precision_score, roc_auc_score

        roc_auc = float(roc_auc_score(y, p))
        pr_auc = float(average_precision_score(y, p))
    return ClassificationMetrics(
        n=len(y),
        accuracy=_ratio(tp + tn, len(y)),
        spam_precision=precision,
        spam_recall=recall,
        spam_f1=_ratio(2 * precision * recall, precision + recall),
        ham_fpr=_ratio(fp, fp + tn),
        mcc=max(-1.0, min(1.0, _ratio(tp * tn - fp * fn, den))),
        roc_auc=roc_auc,
        pr_auc=pr_auc,
    )


def mean_sd(folds: Sequence[ClassificationMetrics]) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation of every numeric metric over CV folds."""
    out: dict[str, tuple[float, float]] = {}
    for field in ("accuracy", "spam_precision", "spam_recall", "spam_f1", "ham_fpr", "mcc"):
        values = [float(getattr(m, field)) for m in folds]
        out[field] = (
            statistics.fmean(values),
            statistics.stdev(values) if len(values) > 1 else 0.0,
        )
    aucs = [m.roc_auc for m in folds if m.roc_auc is not None]
    if aucs:
        out["roc_auc"] = (statistics.fmean(aucs), statistics.stdev(aucs) if len(aucs) > 1 else 0.0)
    return out
