"""How many labelled samples a test needs to find the minimum effect with the given power.

The planned size is where the sequential test, read at that size alone, rejects with
probability `power` when the error rates differ by exactly `min_effect`. Earlier looks can
only add rejections, so the estimate errs on the safe side (the simulations measure the
power actually reached). The always-valid boundary is wider than a fixed-sample test's
(|z| ≈ 3 instead of 1.96 at alpha 0.05), so a sequential test needs about twice the
samples of a fixed-sample test *if it runs to the end*; it stops much earlier when the
true difference is larger than the minimum effect.

Split mode: both arms' errors are binomial; the larger-variance alternative
(p_challenger = p_champion + min_effect) is planned for. Shadow mode: only discordant
messages count; their number is binomial in the disagreement rate d of the two models
(measurable on all traffic, labelled or not), and under the alternative the challenger is
the wrong one of a discordant pair with probability 1/2 + min_effect / (2 d).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.stats import binom, norm

from ml.abtest.sequential import normal_mixture_boundary, paired_log_lr

__all__ = ["paired_prior", "paired_sample_size", "split_sample_size"]

_MAX_SAMPLES = 10**9
_MAX_DISCORDANT = 2**22
_MAX_SHARE = 0.99


def _smallest(power_at: Callable[[int], float], power: float, cap: int = _MAX_SAMPLES) -> int:
    """Smallest n (by doubling, then bisection) with power_at(n) ≥ power; `cap` if none."""
    hi = 16
    while power_at(hi) < power:
        hi *= 2
        if hi > cap:
            return cap
    lo = hi // 2
    while hi - lo > max(1, lo // 200):  # 0.5% resolution is plenty for a plan
        mid = (lo + hi) // 2
        if power_at(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def split_sample_size(
    baseline: float, min_effect: float, split: float, alpha: float, power: float
) -> int:
    """Labelled samples of both arms together for a split test (τ = min_effect)."""
    pa = min(max(baseline, 1e-4), 1 - 1e-4)
    pb = min(pa + min_effect, 1 - 1e-4)
    tau2 = min_effect**2

    def power_at(total: int) -> float:
        na, nb = max(total * (1 - split), 1.0), max(total * split, 1.0)
        var = pa * (1 - pa) / na + pb * (1 - pb) / nb
        z = (pb - pa) / math.sqrt(var)
        return float(norm.cdf(z - normal_mixture_boundary(var, tau2, alpha)))

    return _smallest(power_at, power)


def paired_prior(min_effect: float, discordance: float) -> float:
    """Beta(a, a) mixing prior whose spread matches the effect the test is planned for.

    Its standard deviation 1 / (2 sqrt(2a + 1)) is set to the planned departure from 1/2,
    min_effect / (2 d); a is fixed when the test starts, as a mixture must be.
    """
    spread = min(min_effect / (2 * max(discordance, 1e-6)), 0.45)
    return float(min(max((1 / (4 * spread**2) - 1) / 2, 0.5), 1e4))


def _discordant_power(m: int, share: float, prior: float, alpha: float) -> float:
    """P(the paired test rejects at m discordant pairs) when the challenger errs in `share`."""
    c = np.arange(m + 1, dtype=float)
    rejects = paired_log_lr(m - c, c, prior) >= math.log(1 / alpha)
    upper = c[(c >= m / 2) & rejects]
    lower = c[(c <= m / 2) & rejects]
    p = 0.0
    if upper.size:
        p += float(binom.sf(upper[0] - 1, m, share))
    if lower.size:
        p += float(binom.cdf(lower[-1], m, share))
    return p


def paired_sample_size(
    discordance: float, min_effect: float, alpha: float, power: float, prior: float
) -> int:
    """Labelled (paired) messages for a shadow test or a replay, given the disagreement rate."""
    d = min(max(discordance, min_effect, 1e-6), 1.0)
    share = min(0.5 + min_effect / (2 * d), _MAX_SHARE)
    m = _smallest(lambda k: _discordant_power(k, share, prior, alpha), power, _MAX_DISCORDANT)
    return min(math.ceil(m / d), _MAX_SAMPLES)
