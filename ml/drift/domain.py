"""The domain classifier: can a linear model tell window messages from reference messages?

Features are TF-IDF weights of hashed token ids (binary term frequency, smoothed idf, rows
L2-normalised), so it works on redacted events. The model is the difference of the two
class centroids (Rocchio), a linear classifier with a closed form: every fold is fitted
with two sparse products, ~2 ms for 1,500 messages where cross-validated logistic
regression took ~18 ms with the same detection power here (docs/monitoring.md); that
matters because calibration fits it hundreds of times.

Cross-validation is grouped by message content: identical messages (same tokens) always
fall in the same fold, so a repeated message cannot be memorised on one side and
recognised on the other. The out-of-fold scores give the ROC AUC (the drift statistic),
the largest TPR - FPR (a lower bound on the share of traffic that changed), the window
messages most unlike the reference, and the full-data weights name the tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ml.drift.window import FloatArray, IntArray

__all__ = [
    "DomainFit",
    "DomainSample",
    "auc_and_separation",
    "content_keys",
    "fit_domain",
    "unique_pairs",
]


@functools.cache
def _multipliers(length: int) -> npt.NDArray[np.uint64]:
    """Odd pseudo-random 64-bit multipliers, one per token position (seeded, stable)."""
    rng = np.random.default_rng(20240917)
    return rng.integers(1, 2**63, size=length, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def content_keys(messages: Sequence[IntArray]) -> IntArray:
    """A 64-bit key per message, equal for messages with the same token sequence.

    Vectorised (a per-message hash of bytes cost more than the classifier), and stable
    across processes, unlike Python's salted `hash()`: the folds must be the same in every
    process for calibration and measurement to be reproducible.
    """
    lengths = np.fromiter((len(m) for m in messages), dtype=np.int64, count=len(messages))
    if not len(messages):
        return np.zeros(0, dtype=np.int64)
    flat = np.concatenate(messages).astype(np.uint64) if lengths.sum() else np.zeros(0, np.uint64)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    position = np.arange(len(flat)) - np.repeat(starts, lengths)
    mult = _multipliers(max(1 << int(lengths.max(initial=1) - 1).bit_length(), 1))
    terms = (flat + np.uint64(1)) * mult[position]
    running = np.r_[np.uint64(0), np.cumsum(terms, dtype=np.uint64)]
    keys = running[starts + lengths] - running[starts]
    keys ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    out: IntArray = keys.view(np.int64)
    return out


def unique_pairs(messages: Sequence[IntArray]) -> tuple[IntArray, IntArray]:
    """(message index, token id) of every distinct token of every message, row-sorted."""
    lengths = np.fromiter((len(m) for m in messages), dtype=np.int64, count=len(messages))
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    flat = np.concatenate(messages).astype(np.int64)
    width = int(flat.max()) + 1
    pairs = np.unique(np.repeat(np.arange(len(messages)), lengths) * width + flat)
    return pairs // width, pairs % width


@dataclass(frozen=True)
class DomainSample:
    """Reference messages the window is compared with, prepared once."""

    size: int
    rows: IntArray
    ids: IntArray
    """Distinct tokens of each message as (row, id) pairs, sorted by row."""
    keys: IntArray
    """`content_keys` of the messages."""

    @classmethod
    def build(cls, messages: Sequence[IntArray]) -> DomainSample:
        rows, ids = unique_pairs(messages)
        return cls(size=len(messages), rows=rows, ids=ids, keys=content_keys(messages))


@dataclass(frozen=True)
class DomainFit:
    auc: float
    """Out-of-fold ROC AUC; 0.5 (a little less, under CV) when nothing separates them."""
    separation: float
    """Largest TPR - FPR over thresholds of the out-of-fold scores."""
    window_scores: FloatArray
    """Out-of-fold score of each window message: higher = less like the reference."""
    columns: IntArray
    """Token id of each feature column."""
    weights: FloatArray
    """Full-data centroid difference per column: > 0 typical of the window."""
    window_share: FloatArray
    """Share of window messages containing each column's token."""


def auc_and_separation(scores: FloatArray, positive: np.ndarray) -> tuple[float, float]:
    """ROC AUC (ties count one half) and max(TPR - FPR) of `scores` for the `positive` class."""
    n1 = int(positive.sum())
    n0 = len(scores) - n1
    if n1 == 0 or n0 == 0:
        return 0.5, 0.0
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    pos = positive[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    tie_of = np.repeat(np.arange(len(starts)), ends - starts)
    ranks = ((starts + ends + 1) / 2.0)[tie_of]
    auc = (float(ranks @ pos) - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    # Predicted "window" = score >= threshold, one threshold per tie group.
    pos_before = np.r_[0.0, np.cumsum(pos)][starts]
    neg_before = starts - pos_before
    tpr = (n1 - pos_before) / n1
    fpr = (n0 - neg_before) / n0
    return auc, float(max(0.0, np.max(tpr - fpr)))


def _tfidf(rows: IntArray, ids: IntArray, n: int) -> tuple[sp.csr_matrix, sp.csr_matrix, IntArray]:
    """Binary and TF-IDF (smoothed idf, L2 rows) matrices of row-sorted (row, id) pairs."""
    columns, col = np.unique(ids, return_inverse=True)
    width = len(columns)
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n))]
    binary = sp.csr_matrix((np.ones(len(ids)), col, indptr), shape=(n, width))
    idf = np.log((1.0 + n) / (1.0 + np.bincount(col, minlength=width))) + 1.0
    weight = idf[col]
    norm = np.sqrt(np.bincount(rows, weights=weight * weight, minlength=n))
    norm[norm == 0] = 1.0
    tfidf = sp.csr_matrix((weight / norm[rows], col, indptr), shape=(n, width))
    return tfidf, binary, columns.astype(np.int64)


def fit_domain(
    sample: DomainSample, window: Sequence[IntArray], *, folds: int = 5, seed: int = 0
) -> DomainFit:
    """Cross-validated reference-vs-window classifier on hashed tokens."""
    n_ref, n_win = sample.size, len(window)
    n = n_ref + n_win
    w_rows, w_ids = unique_pairs(window)
    x, binary, columns = _tfidf(np.r_[sample.rows, w_rows + n_ref], np.r_[sample.ids, w_ids], n)
    is_window = np.r_[np.zeros(n_ref, dtype=bool), np.ones(n_win, dtype=bool)]
    _, group = np.unique(np.r_[sample.keys, content_keys(window)], return_inverse=True)
    fold = np.random.default_rng(seed).integers(0, folds, int(group.max()) + 1)[group]
    cell = fold * 2 + is_window
    member = sp.csr_matrix((np.ones(n), (cell, np.arange(n))), shape=(2 * folds, n))
    sums = np.asarray((member @ x).todense()).reshape(folds, 2, -1)
    counts = np.bincount(cell, minlength=2 * folds).reshape(folds, 2).astype(np.float64)
    total, total_n = sums.sum(axis=0), counts.sum(axis=0)
    rest_n = np.maximum(total_n[None, :] - counts, 1.0)
    centroids = (total[None, :, :] - sums) / rest_n[:, :, None]
    fold_weights = centroids[:, 1, :] - centroids[:, 0, :]
    oof = np.asarray(x @ fold_weights.T)[np.arange(n), fold]
    auc, separation = auc_and_separation(oof, is_window)
    window_df = np.asarray(binary[n_ref:].sum(axis=0)).ravel()
    return DomainFit(
        auc=auc,
        separation=separation,
        window_scores=oof[n_ref:],
        columns=columns,
        weights=total[1] / max(total_n[1], 1.0) - total[0] / max(total_n[0], 1.0),
        window_share=window_df / max(n_win, 1),
    )
