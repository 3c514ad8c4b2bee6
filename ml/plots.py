"""Evaluation plots for the MLflow run: confusion matrix, ROC, precision-recall, calibration.

matplotlib's object API with the Agg canvas: no pyplot global state, no display needed,
safe in a server or a test run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["write_plots"]


def _figure(title: str) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.6), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def _confusion(y: npt.NDArray[np.int64], pred: npt.NDArray[np.int64], out: Path) -> None:
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y, pred, labels=[0, 1])
    fig, ax = _figure("Confusion matrix (held-out)")
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="black")
    ax.set_xticks([0, 1], ["ham", "spam"])
    ax.set_yticks([0, 1], ["ham", "spam"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.savefig(out)


def _roc(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], out: Path) -> None:
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = _figure(f"ROC (AUC {roc_auc_score(y, p):.4f})")
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set_xlabel("ham false-positive rate")
    ax.set_ylabel("spam recall")
    fig.savefig(out)


def _pr(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], out: Path) -> None:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, p)
    fig, ax = _figure(f"Precision-recall (AP {average_precision_score(y, p):.4f})")
    ax.plot(recall, precision)
    ax.set_xlabel("spam recall")
    ax.set_ylabel("spam precision")
    fig.savefig(out)


def _calibration(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], out: Path) -> None:
    from sklearn.calibration import calibration_curve

    frac, mean = calibration_curve(y, p, n_bins=10, strategy="quantile")
    fig, ax = _figure("Calibration (held-out)")
    ax.plot(mean, frac, marker="o")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set_xlabel("predicted spam probability")
    ax.set_ylabel("observed spam share")
    fig.savefig(out)


def write_plots(
    y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], threshold: float, directory: Path
) -> list[Path]:
    """Render the four plots as PNG files into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    pred = (p >= threshold).astype(np.int64)
    paths = [
        directory / n for n in ("confusion_matrix.png", "roc.png", "pr.png", "calibration.png")
    ]
    _confusion(y, pred, paths[0])
    _roc(y, p, paths[1])
    _pr(y, p, paths[2])
    _calibration(y, p, paths[3])
    return paths
