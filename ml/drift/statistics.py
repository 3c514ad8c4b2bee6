"""The drift statistics of one window against a reference: pure functions of arrays.

| statistic | compares (window vs reference) | grows when |
|---|---|---|
| `token_js_distance` | hashed-token distributions (Jensen-Shannon, base 2) | vocabulary moves |
| `oov_rate` | share of window tokens the reference never saw | new words appear |
| `length_ks` ... `uppercase_ks` | per-message shape (two-sample KS distance) | format changes |
| `score_psi` | spam-probability histogram vs the held-out one (PSI) | the output moves |
| `spam_rate_change` | share labelled spam vs the held-out share | the mix changes |
| `domain_auc` | a classifier's window-vs-reference AUC (`ml.drift.domain`) | anything it sees |

Beside the statistics, `shares` holds lower bounds on the share of the window's traffic
that differs from the reference (total variation: for any event A, |P(A) - Q(A)| is at
most the TV distance): each KS distance, the spam-rate change, the TV of the score
histograms, the share of messages with an unseen token, the classifier's max TPR - FPR.
The detector turns them into the drift score after removing their noise floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.drift.domain import DomainFit, fit_domain
from ml.drift.reference import Reference, score_histogram
from ml.drift.window import SHAPE_FIELDS, FloatArray, IntArray, WindowSample

__all__ = [
    "SHAPE_STATISTICS",
    "SHARES",
    "STATISTICS",
    "Measures",
    "js_distance",
    "ks_distance",
    "measure",
    "psi",
    "total_variation",
]

SHAPE_STATISTICS: tuple[str, ...] = tuple(
    f"{'uppercase' if f == 'uppercase_ratio' else f}_ks" for f in SHAPE_FIELDS
)
STATISTICS: tuple[str, ...] = (
    "token_js_distance",
    "oov_rate",
    *SHAPE_STATISTICS,
    "score_psi",
    "spam_rate_change",
    "domain_auc",
)
SHARES: tuple[str, ...] = (*SHAPE_FIELDS, "spam_rate", "scores", "unseen_tokens", "domain")

_PSI_FLOOR = 1e-4
"""Empty bins get this share, so PSI stays finite (the usual convention)."""


@dataclass(frozen=True)
class Measures:
    values: dict[str, float]
    """Each of `STATISTICS`."""
    shares: dict[str, float]
    """Each of `SHARES`: a lower bound on the changed share, before its noise floor."""
    spam_rate_delta: float
    """Window spam share minus the reference's (signed)."""
    domain: DomainFit


def js_distance(
    ref_ids: IntArray, ref_share: FloatArray, win_ids: IntArray, win_counts: FloatArray
) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two distributions over token ids.

    `ref_ids` sorted and unique with shares summing to 1; `win_ids` unique with counts.
    Reference ids absent from the window contribute p·log2(p / (p/2)) = p each.
    """
    total = float(win_counts.sum())
    if total == 0 or not len(ref_ids):
        return 0.0
    q = win_counts / total
    pos = np.minimum(np.searchsorted(ref_ids, win_ids), len(ref_ids) - 1)
    known = ref_ids[pos] == win_ids
    p = np.where(known, ref_share[pos], 0.0)
    m = (p + q) / 2.0
    kl_q = float(np.sum(q * np.log2(q / m)))
    pk, mk = p[known], m[known]
    kl_p = float(np.sum(pk * np.log2(pk / mk))) + max(0.0, 1.0 - float(pk.sum()))
    return float(np.sqrt(max(0.0, (kl_p + kl_q) / 2.0)))


def ks_distance(ref_sorted: FloatArray, values: FloatArray) -> float:
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between the two CDFs."""
    if not len(ref_sorted) or not len(values):
        return 0.0
    win = np.sort(values)
    at = np.concatenate([ref_sorted, win])
    gap = np.searchsorted(ref_sorted, at, side="right") / len(ref_sorted) - np.searchsorted(
        win, at, side="right"
    ) / len(win)
    return float(np.max(np.abs(gap)))


def psi(ref_hist: FloatArray, win_hist: FloatArray) -> float:
    """Population stability index: sum of (w - r)·ln(w / r) over bins."""
    r = np.maximum(ref_hist, _PSI_FLOOR)
    w = np.maximum(win_hist, _PSI_FLOOR)
    return float(np.sum((w - r) * np.log(w / r)))


def total_variation(ref_hist: FloatArray, win_hist: FloatArray) -> float:
    return float(0.5 * np.abs(ref_hist - win_hist).sum())


def _vocabulary(reference: Reference, window: WindowSample) -> tuple[float, float, float]:
    """(JS distance, OOV rate, share of messages with an unseen token)."""
    lengths = np.fromiter((len(t) for t in window.tokens), dtype=np.int64, count=window.n)
    if not lengths.sum():
        return 0.0, 0.0, 0.0
    flat = np.concatenate(window.tokens)
    ids, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    js = js_distance(reference.token_ids, reference.token_share, ids, counts.astype(np.float64))
    ref = reference.token_ids
    if len(ref):
        pos = np.minimum(np.searchsorted(ref, ids), len(ref) - 1)
        unseen_id = ref[pos] != ids
    else:
        unseen_id = np.ones(len(ids), dtype=bool)
    unseen = unseen_id[inverse]
    per_message = np.bincount(np.repeat(np.arange(window.n), lengths), weights=unseen)
    return js, float(unseen.mean()), float(np.mean(per_message > 0))


def measure(reference: Reference, window: WindowSample, *, seed: int = 0) -> Measures:
    """Every statistic of `window` against `reference` (a few milliseconds for 500)."""
    values: dict[str, float] = {}
    shares: dict[str, float] = {}
    js, oov, unseen_share = _vocabulary(reference, window)
    values["token_js_distance"], values["oov_rate"] = js, oov
    for j, (field, name) in enumerate(zip(SHAPE_FIELDS, SHAPE_STATISTICS, strict=True)):
        values[name] = shares[field] = ks_distance(reference.shapes[j], window.shapes[:, j])
    hist = score_histogram(window.scores)
    values["score_psi"] = psi(reference.score_hist, hist)
    delta = float(np.mean(window.predicted_spam)) - reference.spam_rate if window.n else 0.0
    values["spam_rate_change"] = shares["spam_rate"] = abs(delta)
    domain = fit_domain(reference.sample, window.tokens, seed=seed)
    values["domain_auc"] = domain.auc
    shares["scores"] = total_variation(reference.score_hist, hist)
    shares["unseen_tokens"] = unseen_share
    shares["domain"] = domain.separation
    return Measures(values=values, shares=shares, spam_rate_delta=delta, domain=domain)
