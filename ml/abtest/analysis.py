"""One look at a running test: effect, always-valid interval and p-value, plan, verdict.

`look` measures the counters as they are now; `Evidence` carries what every earlier look
established (the smallest p-value, the intersection of the intervals) and only ever
tightens, whoever looked; `read` turns counters and evidence into what `abtest.updated`
and `abtest.concluded` report.

The design follows the test's mode:

- split: two independent arms; the normal-mixture SPRT on the difference of error rates
  (variance at the pooled rate), mixing prior N(0, min_effect²); the interval, on the
  effect itself, inverts the same test;
- shadow (and offline replay): the same messages scored by both models; the exact
  beta-binomial mixture on the discordant pairs; the interval is on the share p of
  discordant pairs the challenger got wrong, shown on the effect's scale as d (2p - 1),
  d the share of messages that are discordant, taken at the far end of its own
  always-valid interval (so a handful of discordant pairs gives an honest, wide interval).

Evidence starts accruing at the first look where each arm has `min_samples` labels: the
normal approximation is poor on a handful of errors, and a test is not concluded earlier
anyway. Before that, a reading shows the current look alone and never concludes.
Verdicts: *significant* when the p-value falls to alpha (the winner is the arm the
interval favours); *futility* when the interval lies inside ±min_effect (whatever the
difference, it is smaller than the one worth acting on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ml.abtest.counts import AbTestCounts
from ml.abtest.planning import paired_prior, paired_sample_size, split_sample_size
from ml.abtest.sequential import (
    normal_mixture_log_lr,
    p_from_log_lr,
    paired_interval,
    paired_log_lr,
    split_estimate,
    split_interval,
)
from schemas.abtests import AbTestStart

__all__ = [
    "Design",
    "Evidence",
    "Reading",
    "Verdict",
    "Winner",
    "look",
    "planned_samples",
    "read",
    "ready",
]

Verdict = Literal["continue", "significant", "futility"]
Winner = Literal["champion", "challenger", "none"]
_PLAN_MIN_N = 100
"""Labels (or shadow scores) before the plan uses the measured rate, not the assumption."""


@dataclass(frozen=True, slots=True)
class Design:
    paired: bool
    alpha: float
    min_effect: float
    min_samples: int
    split: float
    power: float
    baseline_error: float
    """Planning assumption until the champion has labels (and, paired, the disagreement
    rate until there are shadow scores; it also sets the mixing prior)."""

    @property
    def tau2(self) -> float:
        return self.min_effect**2

    @property
    def prior(self) -> float:
        return paired_prior(self.min_effect, self.baseline_error)

    @classmethod
    def of(cls, start: AbTestStart, *, power: float, baseline_error: float) -> Design:
        return cls(
            paired=start.mode == "shadow",
            alpha=start.alpha,
            min_effect=start.min_effect,
            min_samples=start.min_samples,
            split=start.split,
            power=power,
            baseline_error=baseline_error,
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Running evidence: the smallest p-value and the intersected interval (of the effect,
    or of the discordant share when paired) over the looks taken so far."""

    p_value: float = 1.0
    low: float = -math.inf
    high: float = math.inf

    def merge(self, other: Evidence) -> Evidence:
        low, high = max(self.low, other.low), min(self.high, other.high)
        if low > high:  # disjoint (a rare approximation artefact): trust the newer look
            low, high = other.low, other.high
        return Evidence(min(self.p_value, other.p_value), low, high)


@dataclass(frozen=True, slots=True)
class Reading:
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    planned_samples: int
    ready: bool
    """Each arm has `min_samples` labels: the evidence is running and may conclude."""
    verdict: Verdict
    winner: Winner


def ready(design: Design, counts: AbTestCounts) -> bool:
    """Each arm (paired: the pairs) has `min_samples` labels: evidence may accrue."""
    if design.paired:
        return counts.pair.n >= design.min_samples
    return min(counts.champion.n, counts.challenger.n) >= design.min_samples


def look(design: Design, counts: AbTestCounts) -> Evidence:
    """The evidence of this look alone."""
    if design.paired:
        b, c = counts.pair.b, counts.pair.c
        p = float(p_from_log_lr(paired_log_lr(b, c, design.prior)))
        low, high = paired_interval(b, c, design.prior, design.alpha)
        return Evidence(p, low, high)
    a, z = counts.champion, counts.challenger
    if not (a.n and z.n):
        return Evidence()
    theta, var = split_estimate(a.errors, a.n, z.errors, z.n)
    p = float(p_from_log_lr(normal_mixture_log_lr(theta, var, design.tau2)))
    low, high = split_interval(a.errors, a.n, z.errors, z.n, design.tau2, design.alpha)
    return Evidence(p, low, high)


def _effect(design: Design, counts: AbTestCounts, ev: Evidence) -> tuple[float, float, float]:
    if design.paired:
        n, m = counts.pair.n, counts.pair.b + counts.pair.c
        if not n:
            return 0.0, -1.0, 1.0
        # θ = d (2p - 1): scale p's interval by the far end of d's own interval.
        d_low, d_high = paired_interval(n - m, m, 1.0, design.alpha)
        low = (d_high if ev.low < 0.5 else d_low) * (2 * ev.low - 1)
        high = (d_high if ev.high > 0.5 else d_low) * (2 * ev.high - 1)
        return (counts.pair.c - counts.pair.b) / n, low, high
    effect = counts.challenger.error_rate - counts.champion.error_rate
    return effect, max(ev.low, -1.0), min(ev.high, 1.0)


def _winner(design: Design, ev: Evidence) -> Winner:
    middle = 0.5 if design.paired else 0.0  # "no difference" on the interval's scale
    if ev.high < middle:
        return "challenger"  # the challenger errs less
    if ev.low > middle:
        return "champion"
    return "none"


def planned_samples(design: Design, counts: AbTestCounts) -> int:
    """Labelled samples (both arms together; paired: messages) the test plans for."""
    if design.paired:
        seen = counts.discordance if counts.challenger.served >= _PLAN_MIN_N else None
        rate = design.baseline_error if seen is None else seen
        return _paired_plan(
            _round(rate), design.min_effect, design.alpha, design.power, design.prior
        )
    champion = counts.champion
    rate = champion.error_rate if champion.n >= _PLAN_MIN_N else design.baseline_error
    return _split_plan(_round(rate), design.min_effect, design.split, design.alpha, design.power)


def read(design: Design, counts: AbTestCounts, evidence: Evidence) -> Reading:
    """What the test says now, given the running evidence (already merged with this look
    when the test is ready)."""
    is_ready = ready(design, counts)
    ev = evidence if is_ready else look(design, counts)
    effect, low, high = _effect(design, counts, ev)
    verdict: Verdict = "continue"
    winner: Winner = "none"
    if is_ready and ev.p_value <= design.alpha:
        verdict, winner = "significant", _winner(design, ev)
        if winner == "none":  # intervals that disagreed: the running p still decided
            winner = "challenger" if effect < 0 else "champion"
    elif is_ready and -design.min_effect < low and high < design.min_effect:
        verdict = "futility"
    return Reading(
        effect=effect,
        ci_low=low,
        ci_high=high,
        p_value=ev.p_value,
        planned_samples=planned_samples(design, counts),
        ready=is_ready,
        verdict=verdict,
        winner=winner,
    )


def _round(rate: float) -> float:
    """Two significant digits: plenty for a plan, and the plans stay cached."""
    return float(f"{max(rate, 1e-4):.2g}")


@lru_cache(maxsize=512)
def _split_plan(rate: float, effect: float, split: float, alpha: float, power: float) -> int:
    return split_sample_size(rate, effect, split, alpha, power)


@lru_cache(maxsize=512)
def _paired_plan(rate: float, effect: float, alpha: float, power: float, prior: float) -> int:
    return paired_sample_size(rate, effect, alpha, power, prior)
