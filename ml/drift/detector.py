"""The verdict on one window: statistics with thresholds, drifted or not, a score, and why.

Verdict: a window has drifted when any statistic exceeds its calibrated threshold; the
thresholds share one critical z chosen so that clean windows alarm at the target rate
(`ml.drift.calibration`).

Score, in [0, 1]: roughly the share of the window's traffic that differs from the
reference. Every `shares` bound is a lower bound on the total variation distance between
the window's and the reference's distributions (for the mixture "a share s of traffic is
new", TV = s); each has its mean on clean windows of the same size (its noise floor)
removed, and the score is the largest, or 0 when the verdict is "no drift". So 0.15 reads
"about one message in seven is of a kind the model was not trained on" (measured per
scenario in docs/monitoring.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ml.drift.calibration import RATE, Calibration
from ml.drift.domain import DomainFit
from ml.drift.reference import Reference
from ml.drift.statistics import SHAPE_STATISTICS, SHARES, STATISTICS, Measures, measure
from ml.drift.window import WindowSample
from ml.profile import ReferenceProfile
from schemas.monitoring import DriftStatistic, DriftToken

__all__ = ["DriftAssessment", "DriftDetector", "binomial_pvalue", "ks_pvalue"]

_EXAMPLE_CHARS = 300


def ks_pvalue(distance: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value (Kolmogorov's series, Stephens' small-n correction)."""
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * distance
    if lam < 0.2:
        return 1.0
    total = sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, 2.0 * total)))


def binomial_pvalue(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test: the probability of outcomes no likelier than k."""
    from scipy.special import gammaln

    if n == 0 or p <= 0.0 or p >= 1.0:
        return 1.0
    ks = np.arange(n + 1)
    logpmf = (
        gammaln(n + 1)
        - gammaln(ks + 1)
        - gammaln(n - ks + 1)
        + ks * math.log(p)
        + (n - ks) * math.log1p(-p)
    )
    pmf = np.exp(logpmf - logpmf.max())
    observed = pmf[k] * (1 + 1e-7)
    return float(min(1.0, pmf[pmf <= observed].sum() / pmf.sum()))


@dataclass(frozen=True)
class DriftAssessment:
    statistics: tuple[DriftStatistic, ...]
    drifted: bool
    score: float
    top_tokens: tuple[DriftToken, ...]
    examples: tuple[str, ...]
    shares: dict[str, float] = field(default_factory=dict)
    """Each lower bound on the changed share, above its noise floor."""
    max_z: float = 0.0
    seconds: float = 0.0


class DriftDetector:
    """Measures windows of one model version against its profile and calibration.

    Tokens and examples are named only for drifted windows: on a clean window the
    classifier's strongest features are noise, and reading them as "what changed" misleads.
    """

    def __init__(
        self,
        profile: ReferenceProfile,
        calibration: Calibration,
        *,
        top_tokens: int = 10,
        examples: int = 3,
    ) -> None:
        self.calibration = calibration
        self.reference = Reference.from_profile(
            profile, sample_size=calibration.reference_sample, seed=calibration.seed
        )
        self.top_tokens = top_tokens
        self.examples = examples

    def assess(self, window: WindowSample) -> DriftAssessment:
        start = time.perf_counter()
        m = measure(self.reference, window, seed=self.calibration.seed)
        stats, max_z = self._statistics(m, window)
        drifted = any(s.drifted for s in stats)
        cal, n = self.calibration, window.n
        shares = {s: _above_floor(m.shares[s], cal.floor(s, n)) for s in SHARES}
        score = min(1.0, max(shares.values())) if drifted else 0.0
        return DriftAssessment(
            statistics=stats,
            drifted=drifted,
            score=score,
            top_tokens=self._tokens(m.domain, window) if drifted else (),
            examples=self._examples(m.domain, window) if drifted else (),
            shares=shares,
            max_z=max_z,
            seconds=time.perf_counter() - start,
        )

    def _statistics(
        self, m: Measures, window: WindowSample
    ) -> tuple[tuple[DriftStatistic, ...], float]:
        cal, n = self.calibration, window.n
        out, max_z = [], -math.inf
        for name in STATISTICS:
            value = m.values[name]
            p_value: float | None = None
            if name == RATE:
                z = cal.z(name, m.spam_rate_delta, n)
                threshold = cal.threshold(name, n, upward=m.spam_rate_delta >= 0)
                k = int(np.sum(window.predicted_spam))
                p_value = binomial_pvalue(k, n, self.reference.spam_rate)
            else:
                z = cal.z(name, value, n)
                threshold = cal.threshold(name, n)
                if name in SHAPE_STATISTICS:
                    p_value = ks_pvalue(value, n, self.reference.messages)
            max_z = max(max_z, z)
            drifted = z > cal.critical_z
            out.append(
                DriftStatistic(
                    name=name,
                    value=value,
                    threshold=threshold,
                    drifted=drifted,
                    p_value=p_value,
                )
            )
        return tuple(out), max_z

    def _tokens(self, fit: DomainFit, window: WindowSample) -> tuple[DriftToken, ...]:
        if not self.top_tokens or not len(fit.columns):
            return ()
        # The classifier's strongest features, ordered by how much their presence moved
        # ((w - r)·ln(w / r), PSI's term): "whatsapp 7% vs 0%" reads better than ", 39% vs 23%".
        candidates = np.argsort(-np.abs(fit.weights), kind="stable")[: 5 * self.top_tokens]
        candidates = candidates[fit.weights[candidates] != 0]
        win = fit.window_share[candidates]
        ref = self.reference.doc_share_of(fit.columns[candidates])
        eps = 0.5 / max(window.n, 1)
        moved = (win - ref) * np.log((win + eps) / (ref + eps))
        order = candidates[np.argsort(-moved, kind="stable")[: self.top_tokens]]
        ids = fit.columns[order]
        names = dict(self.reference.names)
        missing = {int(i) for i in ids if int(i) not in names}
        if missing and window.has_texts:
            names.update(_names_from_texts(window, missing))
        ref_share = self.reference.doc_share_of(ids)
        return tuple(
            DriftToken(
                token=names.get(int(i), f"#{int(i)}")[:200],
                reference_share=float(min(1.0, r)),
                window_share=float(min(1.0, fit.window_share[j])),
                weight=float(fit.weights[j]),
            )
            for i, j, r in zip(ids, order, ref_share, strict=True)
        )

    def _examples(self, fit: DomainFit, window: WindowSample) -> tuple[str, ...]:
        if not self.examples or not window.has_texts:
            return ()
        chosen: list[str] = []
        for i in np.argsort(-fit.window_scores, kind="stable"):
            text = window.texts[int(i)]
            if text is not None and text not in chosen:
                chosen.append(text)
            if len(chosen) == self.examples:
                break
        return tuple(t[:_EXAMPLE_CHARS] for t in chosen)


def _above_floor(share: float, floor: float) -> float:
    """The share with its clean-window noise floor removed in quadrature.

    A distance measured on a sample is about sqrt(effect² + noise²), so a plain difference
    would understate a large effect by the whole floor; a share at the floor gives 0.
    """
    return math.sqrt(max(0.0, share * share - floor * floor)) if share > 0 else 0.0


def _names_from_texts(window: WindowSample, wanted: set[int]) -> dict[int, str]:
    """Readable tokens for ids the reference never saw, from the window's own texts."""
    from ml.features import hash_token, reference_normalizer

    normalizer = reference_normalizer()
    found: dict[int, str] = {}
    for tokens, text in zip(window.tokens, window.texts, strict=True):
        if text is None or not wanted.intersection(tokens.tolist()):
            continue
        for word in normalizer.tokens(text):
            h = hash_token(word)
            if h in wanted and h not in found:
                found[h] = word
        if len(found) == len(wanted):
            break
    return found
