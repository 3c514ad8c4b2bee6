"""Seeded simulations of whole A/B tests with known error rates, vectorised with numpy.

Each run feeds labelled samples to the test in looks of `step` samples (the evaluator
looks far more often than that; more looks only make a non-sequential test worse) up to
`samples`, and stops at the first look where the sequential test rejects. A run's
winner is the arm the test favoured when it stopped. Beside it, the naive alternative: a
fixed-sample test (two-proportion z-test, or exact McNemar when paired) read at every
look, which is what a dashboard with a p-value invites.

The figures in docs/abtesting.md come from `bench/abtest_eval.py`, which calls these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom, norm

from ml.abtest.sequential import normal_mixture_log_lr, paired_log_lr, split_estimate

__all__ = ["SimulationResult", "simulate_paired", "simulate_split"]

_CHUNK = 2000
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SimulationResult:
    runs: int
    samples: int
    """Labelled samples of a run that never stops (both arms together)."""
    challenger_wins: float
    champion_wins: float
    naive_winners: float
    """Share of runs in which a fixed-sample test at alpha, read at every look, would have
    declared a winner at some look."""
    median_stop: float | None
    """Median labelled samples at which the concluding runs stopped."""

    @property
    def winners(self) -> float:
        return self.challenger_wins + self.champion_wins


def _first(reject: npt.NDArray[np.bool_]) -> Ints:
    """Index of the first rejecting look per run, -1 where none."""
    return np.where(reject.any(axis=1), reject.argmax(axis=1), -1)


def _summary(
    runs: int, samples: int, step: int, first: Ints, sign: Ints, naive: npt.NDArray[np.bool_]
) -> SimulationResult:
    stopped = first >= 0
    return SimulationResult(
        runs=runs,
        samples=samples,
        challenger_wins=float(np.mean(stopped & (sign < 0))),
        champion_wins=float(np.mean(stopped & (sign > 0))),
        naive_winners=float(np.mean(naive)),
        median_stop=float(np.median((first[stopped] + 1) * step)) if stopped.any() else None,
    )


def simulate_split(
    champion_error: float,
    challenger_error: float,
    *,
    split: float,
    samples: int,
    runs: int,
    alpha: float = 0.05,
    min_effect: float = 0.01,
    min_samples: int = 100,
    step: int = 100,
    seed: int = 0,
) -> SimulationResult:
    """Two independent arms; a `split` share of the labelled samples is the challenger's."""
    rng = np.random.default_rng(seed)
    looks = math.ceil(samples / step)
    probs = [
        (1 - split) * champion_error,
        (1 - split) * (1 - champion_error),
        split * challenger_error,
        split * (1 - challenger_error),
    ]
    firsts, signs, naives = [], [], []
    for start in range(0, runs, _CHUNK):
        size = min(_CHUNK, runs - start)
        draws = rng.multinomial(step, probs, size=(size, looks)).cumsum(axis=1)
        ea, na = draws[..., 0], draws[..., 0] + draws[..., 1]
        eb, nb = draws[..., 2], draws[..., 2] + draws[..., 3]
        ready = np.minimum(na, nb) >= min_samples
        with np.errstate(divide="ignore", invalid="ignore"):  # arms still empty: not ready
            theta, var = split_estimate(ea, na, eb, nb)
            lr = normal_mixture_log_lr(theta, var, min_effect**2)
        first = _first(ready & (lr >= math.log(1 / alpha)))
        rows = np.arange(size)
        firsts.append(first)
        signs.append(np.where(first >= 0, np.sign(theta[rows, first]), 0).astype(np.int64))
        pooled = (ea + eb) / (na + nb)
        se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(na, 1) + 1 / np.maximum(nb, 1)))
        diff = eb / np.maximum(nb, 1) - ea / np.maximum(na, 1)
        z_crit = float(norm.ppf(1 - alpha / 2))
        naives.append((ready & (se > 0) & (np.abs(diff) > z_crit * se)).any(axis=1))
    return _summary(
        runs,
        looks * step,
        step,
        np.concatenate(firsts),
        np.concatenate(signs),
        np.concatenate(naives),
    )


def simulate_paired(
    champion_error: float,
    challenger_error: float,
    both_wrong: float,
    *,
    samples: int,
    runs: int,
    prior: float,
    alpha: float = 0.05,
    min_samples: int = 100,
    step: int = 100,
    seed: int = 0,
) -> SimulationResult:
    """Both models score every message; `both_wrong` is the share both get wrong."""
    rng = np.random.default_rng(seed)
    looks = math.ceil(samples / step)
    b_rate, c_rate = champion_error - both_wrong, challenger_error - both_wrong
    if min(b_rate, c_rate) < 0:
        raise ValueError("both_wrong cannot exceed either error rate")
    probs = [b_rate, c_rate, 1 - b_rate - c_rate]
    ready = (np.arange(1, looks + 1) * step) >= min_samples
    firsts, signs, naives = [], [], []
    for start in range(0, runs, _CHUNK):
        size = min(_CHUNK, runs - start)
        draws = rng.multinomial(step, probs, size=(size, looks)).cumsum(axis=1)
        b, c = draws[..., 0], draws[..., 1]
        first = _first(ready & (paired_log_lr(b, c, prior) >= math.log(1 / alpha)))
        rows = np.arange(size)
        firsts.append(first)
        signs.append(np.where(first >= 0, np.sign(c[rows, first] - b[rows, first]), 0))
        m = b + c
        exact = np.minimum(1.0, 2 * binom.cdf(np.minimum(b, c), np.maximum(m, 1), 0.5))
        naives.append((ready & (m > 0) & (exact <= alpha)).any(axis=1))
    return _summary(
        runs,
        looks * step,
        step,
        np.concatenate(firsts),
        np.concatenate(signs).astype(np.int64),
        np.concatenate(naives),
    )
