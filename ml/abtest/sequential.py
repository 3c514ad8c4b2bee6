"""Always-valid sequential tests: mixture likelihood ratios that may be read at any time.

A fixed-sample test is valid only if it is read once, at the planned size. An A/B test is
watched: every `abtest.updated` is a look, and a test that stops at the first look with
p < alpha declares false winners far more often than alpha (about 30% after 100 looks at
alpha 0.05; `ml.abtest.simulation`). A *mixture* likelihood ratio Λ_n (the likelihood of the
data averaged over a prior on the effect, divided by its likelihood under "no difference")
is a non-negative martingale under the null, so by Ville's inequality
P(Λ_n ≥ 1/alpha at any n) ≤ alpha. Hence:

- reject as soon as Λ_n ≥ 1/alpha, at any look, as often as you like;
- the always-valid p-value is min(1, 1 / max_{k ≤ n} Λ_k) (a running minimum);
- the always-valid confidence set is {θ : Λ_n(θ) < 1/alpha}, intersected over looks.

Two mixtures are here:

- `normal_mixture_*`: the mSPRT of Johari, Pekelis & Walsh (2017) for an asymptotically
  normal estimate θ̂ with variance V and a N(θ0, τ²) mixing prior:
  Λ = sqrt(V / (V + τ²)) · exp(τ² (θ̂ - θ0)² / (2 V (V + τ²))). Used for two independent
  arms, θ the difference of error rates (`split_estimate`, `split_interval`).
- `paired_*`: exact, for paired errors (shadow mode, replay). Only discordant messages (one
  model wrong, the other right) carry information; under "equally good" the challenger is
  the wrong one with probability 1/2. With a Beta(a, a) prior on that probability the
  mixture is the beta-binomial ratio Λ = B(c + a, b + a) / B(a, a) / (p0^c (1 - p0)^b), a
  sequential McNemar test with no normal approximation.

Every function takes floats or numpy arrays (the simulations evaluate millions at once).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.special import betaln

__all__ = [
    "normal_mixture_boundary",
    "normal_mixture_halfwidth",
    "normal_mixture_log_lr",
    "p_from_log_lr",
    "paired_interval",
    "paired_log_lr",
    "split_estimate",
    "split_interval",
]

ArrayLike = float | npt.NDArray[np.float64]
_EPS = 1e-12


def p_from_log_lr(log_lr: Any) -> Any:
    """The (instantaneous) always-valid p-value 1 / Λ, capped at 1."""
    return np.minimum(1.0, np.exp(-np.maximum(log_lr, 0.0)))


def split_estimate(
    errors_a: Any, n_a: Any, errors_b: Any, n_b: Any, theta0: Any = 0.0
) -> tuple[Any, Any]:
    """(θ̂, V): the difference of error rates p_b - p_a and its variance if it were θ0.

    The variance is taken at the rates that keep the pooled error rate and differ by θ0
    (at θ0 = 0 both arms at the pooled rate, the textbook variance under "no difference").
    Plug-in per-arm variances make the test anti-conservative on the small arm: at a 2%
    error rate a 20% arm with no errors yet looks certain, and A/A tests then "promote"
    the challenger three times as often as they keep the champion. One error and one
    success are added to the pooled rate so that V > 0 before the first error.
    """
    ea, na = np.asarray(errors_a, dtype=float), np.asarray(n_a, dtype=float)
    eb, nb = np.asarray(errors_b, dtype=float), np.asarray(n_b, dtype=float)
    n = na + nb
    pooled = (ea + eb + 1.0) / (n + 2.0)
    pa = np.clip(pooled - theta0 * nb / n, _EPS, 1 - _EPS)
    pb = np.clip(pooled + theta0 * na / n, _EPS, 1 - _EPS)
    return eb / nb - ea / na, pa * (1 - pa) / na + pb * (1 - pb) / nb


def split_interval(
    errors_a: int, n_a: int, errors_b: int, n_b: int, tau2: float, alpha: float
) -> tuple[float, float]:
    """Always-valid interval of p_b - p_a: {θ0 : Λ(θ0) < 1/alpha}, each θ0 with its own V.

    Inverting the same test that gives the p-value keeps them consistent: the interval
    excludes 0 exactly when the p-value is at most alpha.
    """
    if not (n_a and n_b):
        return -1.0, 1.0
    bound = math.log(1.0 / alpha)
    theta = errors_b / n_b - errors_a / n_a

    def excess(theta0: float) -> float:
        _, var = split_estimate(errors_a, n_a, errors_b, n_b, theta0)
        return float(normal_mixture_log_lr(theta, var, tau2, theta0)) - bound

    # Feasible θ0: both constrained rates inside (0, 1).
    pooled = (errors_a + errors_b + 1.0) / (n_a + n_b + 2.0)
    wa, wb = n_a / (n_a + n_b), n_b / (n_a + n_b)
    lowest = max(-pooled / wa, (pooled - 1) / wb, -1.0)
    highest = min((1 - pooled) / wa, pooled / wb, 1.0)
    return _root(excess, theta, lowest), _root(excess, theta, highest)


def normal_mixture_log_lr(theta_hat: Any, var: Any, tau2: float, theta0: Any = 0.0) -> Any:
    """log Λ of the normal-mixture SPRT of H0: θ = θ0 (V > 0, τ² > 0)."""
    s = var + tau2
    return 0.5 * np.log(var / s) + tau2 * (theta_hat - theta0) ** 2 / (2.0 * var * s)


def normal_mixture_halfwidth(var: Any, tau2: float, alpha: float) -> Any:
    """Half-width of the always-valid interval θ̂ ± h: the θ0 with Λ(θ0) < 1/alpha."""
    s = var + tau2
    return np.sqrt(2.0 * var * s / tau2 * (math.log(1.0 / alpha) + 0.5 * np.log(s / var)))


def normal_mixture_boundary(var: Any, tau2: float, alpha: float) -> Any:
    """The |z| = |θ̂| / sqrt(V) at which the test rejects (about 3 where 1.96 is fixed)."""
    return normal_mixture_halfwidth(var, tau2, alpha) / np.sqrt(var)


def paired_log_lr(champion_only: Any, challenger_only: Any, prior: float, p0: Any = 0.5) -> Any:
    """log Λ of H0: P(challenger is the one wrong | discordant) = p0, Beta(prior, prior).

    `champion_only`: messages only the champion got wrong (b); `challenger_only`: only the
    challenger (c).
    """
    b = np.asarray(champion_only, dtype=float)
    c = np.asarray(challenger_only, dtype=float)
    mixture = betaln(c + prior, b + prior) - betaln(prior, prior)
    return mixture - c * np.log(p0) - b * np.log1p(-np.asarray(p0, dtype=float))


def paired_interval(
    champion_only: int, challenger_only: int, prior: float, alpha: float
) -> tuple[float, float]:
    """Always-valid interval of P(challenger wrong | discordant): {p : Λ(p) < 1/alpha}.

    log Λ(p) is convex in p with its minimum (below 0) at the observed share, so each end
    is the one root on its side.
    """
    b, c = champion_only, challenger_only
    m = b + c
    if m == 0:
        return 0.0, 1.0
    bound = math.log(1.0 / alpha)

    def excess(p: float) -> float:
        return float(paired_log_lr(b, c, prior, p)) - bound

    share = min(max(c / m, _EPS), 1.0 - _EPS)
    low = 0.0 if c == 0 else _root(excess, share, _EPS)
    high = 1.0 if b == 0 else _root(excess, share, 1.0 - _EPS)
    return low, high


def _root(f: Any, inside: float, edge: float) -> float:
    """The root of f between `inside` (where f < 0) and `edge`; the edge if f stays below 0
    (the bound is not reached on that side yet)."""
    end = edge - math.copysign(1e-9, edge - inside)
    if (end - inside) * (edge - inside) <= 0 or f(end) < 0:
        return edge
    lo, hi = sorted((inside, end))
    return float(brentq(f, lo, hi, xtol=1e-12))
