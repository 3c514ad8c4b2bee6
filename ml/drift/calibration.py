"""Thresholds calibrated on clean windows to a target false-alarm rate for the verdict.

Clean windows must behave like unseen production traffic, not like the messages the
profile was built from (those have no unseen token at all, so they look far too clean).
So calibration cross-fits: the profile's messages are split, by content, into pools
(`folds` x `repeats` random splits); each pool is measured against a reference built from
the *other* messages, and windows are resampled from the pool with their out-of-fold spam
probabilities. Each statistic's null at window size n is a normal distribution on a
transformed scale, fitted at a few sizes and interpolated in log n: a Box-Cox power
transform (one power per statistic, by maximum likelihood over all sizes) for the
distances, which are right-skewed, and the arcsine-square-root change for the spam rate,
which stabilises a proportion's variance.

The verdict alarms when any statistic's standardised value exceeds one critical z. With
nine correlated statistics, the critical z is set so that the *maximum* alarms at the target
rate: the correlation of the standardised statistics over the calibration windows defines a
Gaussian copula, and z* is the (1 - target) quantile of its maximum (Monte Carlo). That is
Sidak-like for independent statistics and less conservative when they move together.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ml.drift.reference import (
    ProfileNotCalibratableError,
    ProfileRows,
    Reference,
    score_histogram,
)
from ml.drift.statistics import SHARES, STATISTICS, measure
from ml.drift.window import FloatArray, IntArray, WindowSample
from ml.profile import ReferenceProfile

__all__ = ["CALIBRATION_METHOD", "Calibration", "NullModel", "calibrate", "calibration_sizes"]

CALIBRATION_METHOD = "crossfit-copula/1"

Transform = Literal["boxcox", "arcsine"]
RATE = "spam_rate_change"
"""The one two-sided statistic; every other one alarms only when it grows."""
_DRAWS = 200_000
_POWERS = np.round(np.arange(-1.0, 2.0001, 0.05), 2)
_TINY = 1e-6


def boxcox(x: FloatArray | float, power: float) -> FloatArray:
    x = np.maximum(np.asarray(x, dtype=np.float64), _TINY)
    return np.log(x) if power == 0 else (x**power - 1.0) / power


def inverse_boxcox(y: float, power: float) -> float:
    """The x with boxcox(x) = y; beyond a negative power's range, the largest float."""
    if power == 0:
        return min(math.exp(min(y, 700.0)), sys.float_info.max)
    base = power * y + 1.0
    if base <= 0:
        return 0.0 if power > 0 else sys.float_info.max
    return min(float(base ** (1.0 / power)), sys.float_info.max)


def arcsine_change(delta: float, spam_rate: float, n: int) -> float:
    """sqrt(n)·2·(asin sqrt(p0 + delta) - asin sqrt(p0)): about N(0, 1) for a binomial share."""
    rate = min(max(spam_rate + delta, 0.0), 1.0)
    return 2.0 * math.sqrt(n) * (math.asin(math.sqrt(rate)) - math.asin(math.sqrt(spam_rate)))


def fit_power(samples: list[FloatArray]) -> float:
    """The Box-Cox power that makes every size's values most normal (profile likelihood)."""
    logs = [np.log(np.maximum(x, _TINY)) for x in samples]
    best, best_ll = 1.0, -math.inf
    for power in _POWERS:
        ll = 0.0
        for x, lx in zip(samples, logs, strict=True):
            var = float(np.var(boxcox(x, float(power))))
            ll += -len(x) / 2 * math.log(max(var, 1e-300)) + (power - 1.0) * float(lx.sum())
        if ll > best_ll:
            best, best_ll = float(power), ll
    return best


class NullModel(BaseModel):
    """Mean and sd of one statistic on clean windows, on its transformed scale, per size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transform: Transform
    power: float = 1.0
    mean: list[float]
    sd: list[float]


class Calibration(BaseModel):
    """Everything needed to turn a window's statistics into thresholds and a verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = CALIBRATION_METHOD
    target_false_alarm: float = Field(gt=0, lt=1)
    sizes: list[int] = Field(min_length=1)
    windows_per_size: int
    pools: int
    reference_sample: int
    seed: int
    spam_rate: float = Field(description="Reference share labelled spam (the rate's null).")
    critical_z: float
    statistic_alpha: float = Field(description="Tail probability of one statistic at z*.")
    nulls: dict[str, NullModel]
    share_floors: dict[str, list[float]] = Field(description="Mean of each share, per size.")
    alarm_rate_in_sample: float = Field(description="Calibration windows the verdict flags.")
    seconds: float

    def _at(self, values: list[float], n: int) -> float:
        """Piecewise-linear interpolation in log n between the calibrated sizes."""
        logs = [math.log(s) for s in self.sizes]
        return float(np.interp(math.log(max(n, 1)), logs, values))

    def z(self, name: str, value: float, n: int) -> float:
        """How many null sds `value` lies above a clean window's (the rate: its signed change)."""
        null = self.nulls[name]
        sd = max(self._at(null.sd, n), 1e-12)
        if null.transform == "arcsine":
            return abs(arcsine_change(value, self.spam_rate, n)) / sd
        return (float(boxcox(value, null.power)) - self._at(null.mean, n)) / sd

    def threshold(self, name: str, n: int, *, upward: bool = True) -> float:
        """The value of `name` at which a window of n messages alarms.

        For the spam rate, the absolute change that alarms in the given direction.
        """
        null = self.nulls[name]
        sd = self._at(null.sd, n)
        if null.transform == "arcsine":
            step = (1 if upward else -1) * self.critical_z * sd / (2.0 * math.sqrt(n))
            angle = min(max(math.asin(math.sqrt(self.spam_rate)) + step, 0.0), math.pi / 2)
            return abs(math.sin(angle) ** 2 - self.spam_rate)
        return inverse_boxcox(self._at(null.mean, n) + self.critical_z * sd, null.power)

    def floor(self, share: str, n: int) -> float:
        """The mean of a share on clean windows of n messages (its noise floor)."""
        return self._at(self.share_floors[share], n)


def calibration_sizes(window: int, min_window: int) -> list[int]:
    """The configured window, the smallest measured window and their geometric mean."""
    low = min(min_window, window)
    return sorted({low, round(math.sqrt(low * window)), window})


def _pools(keys: IntArray, folds: int, repeats: int, rng: np.random.Generator) -> list[IntArray]:
    """Row indices of each pool: `repeats` random splits of the content groups into folds."""
    _, group = np.unique(keys, return_inverse=True)
    groups = int(group.max()) + 1 if len(group) else 0
    if groups < 2:
        raise ProfileNotCalibratableError(
            f"the profile has {groups} distinct message(s); calibration needs at least two"
        )
    folds = min(folds, groups)
    pools = []
    for _ in range(repeats):
        fold = (rng.permutation(groups) % folds)[group]
        pools += [np.flatnonzero(fold == k) for k in range(folds)]
    return pools


def _window(rows: ProfileRows, idx: IntArray, threshold: float) -> WindowSample:
    scores = rows.scores[idx]
    return WindowSample(
        tokens=tuple(rows.tokens[i] for i in idx),
        shapes=rows.shapes[idx],
        scores=scores,
        predicted_spam=scores >= threshold,
    )


def _critical_z(standardised: FloatArray, target: float, rng: np.random.Generator) -> float:
    """The (1 - target) quantile of the max over a Gaussian copula of the statistics."""
    centred = standardised - standardised.mean(axis=0)
    scale = np.sqrt((centred**2).sum(axis=0))
    unit = centred / np.where(scale > 0, scale, 1.0)  # a constant statistic: uncorrelated
    corr: FloatArray = unit.T @ unit
    np.fill_diagonal(corr, 1.0)
    eigval, eigvec = np.linalg.eigh(corr)
    root = eigvec * np.sqrt(np.clip(eigval, 1e-9, None))
    draws = rng.standard_normal((_DRAWS, corr.shape[0])) @ root.T
    rate = STATISTICS.index(RATE)
    draws[:, rate] = np.abs(draws[:, rate])
    return float(np.quantile(draws.max(axis=1), 1.0 - target))


def _fit_nulls(
    arrays: dict[int, FloatArray], sizes: list[int]
) -> tuple[dict[str, NullModel], FloatArray]:
    """Each statistic's null per size, and every window's standardised statistics."""
    nulls: dict[str, NullModel] = {}
    columns: list[FloatArray] = []
    for j, name in enumerate(STATISTICS):
        samples = [arrays[n][:, j] for n in sizes]
        if name == RATE:  # centred on no change by construction
            sds = [float(np.sqrt(np.mean(x**2))) for x in samples]
            nulls[name] = NullModel(transform="arcsine", mean=[0.0] * len(sizes), sd=sds)
            columns.append(
                np.concatenate([x / max(sd, 1e-12) for x, sd in zip(samples, sds, strict=True)])
            )
            continue
        power = fit_power(samples)
        ys = [boxcox(x, power) for x in samples]
        means = [float(y.mean()) for y in ys]
        sds = [float(y.std(ddof=1)) for y in ys]
        nulls[name] = NullModel(transform="boxcox", power=power, mean=means, sd=sds)
        columns.append(
            np.concatenate(
                [(y - mu) / max(sd, 1e-12) for y, mu, sd in zip(ys, means, sds, strict=True)]
            )
        )
    return nulls, np.column_stack(columns)


def calibrate(
    profile: ReferenceProfile,
    *,
    sizes: list[int],
    target_false_alarm: float,
    windows_per_size: int = 400,
    folds: int = 5,
    repeats: int = 4,
    reference_sample: int = 1000,
    seed: int = 0,
    cross_fit: bool = True,
) -> Calibration:
    """Fit the null of every statistic on cross-fitted clean windows (a few seconds).

    `cross_fit=False` resamples the profile's own messages against the whole profile: the
    naive calibration, kept to measure what cross-fitting buys (bench/drift_eval.py).
    """
    start = time.perf_counter()
    rows = ProfileRows.from_profile(profile)
    rng = np.random.default_rng(seed)
    everyone = np.arange(len(rows.tokens))
    pools = _pools(rows.keys, folds, repeats, rng) if cross_fit else [everyone]
    heldout_hist = score_histogram(np.asarray(profile.scores, dtype=np.float64))
    per_pool = math.ceil(windows_per_size / len(pools))
    raw: dict[int, list[list[float]]] = {n: [] for n in sizes}
    shares: dict[int, list[list[float]]] = {n: [] for n in sizes}
    for pool in pools:
        reference = Reference.from_rows(
            rows,
            np.setdiff1d(everyone, pool) if cross_fit else everyone,
            score_hist=heldout_hist,
            spam_rate=profile.predicted_spam_rate,
            sample_size=reference_sample,
            rng=rng,
        )
        for n in sizes:
            for _ in range(per_pool):
                window = _window(rows, rng.choice(pool, n), profile.threshold)
                m = measure(reference, window, seed=int(rng.integers(2**31)))
                values = dict(m.values)
                values[RATE] = arcsine_change(m.spam_rate_delta, profile.predicted_spam_rate, n)
                raw[n].append([values[s] for s in STATISTICS])
                shares[n].append([m.shares[s] for s in SHARES])
    nulls, standardised = _fit_nulls({n: np.asarray(raw[n]) for n in sizes}, sizes)
    z_star = _critical_z(standardised, target_false_alarm, rng)
    observed = standardised.copy()
    rate = STATISTICS.index(RATE)
    observed[:, rate] = np.abs(observed[:, rate])
    share_arrays = {n: np.asarray(shares[n]) for n in sizes}
    return Calibration(
        target_false_alarm=target_false_alarm,
        sizes=sizes,
        windows_per_size=per_pool * len(pools),
        pools=len(pools),
        reference_sample=reference_sample,
        seed=seed,
        spam_rate=profile.predicted_spam_rate,
        critical_z=z_star,
        statistic_alpha=0.5 * math.erfc(z_star / math.sqrt(2.0)),
        nulls=nulls,
        share_floors={
            s: [float(share_arrays[n][:, j].mean()) for n in sizes] for j, s in enumerate(SHARES)
        },
        alarm_rate_in_sample=float(np.mean(observed.max(axis=1) > z_star)),
        seconds=time.perf_counter() - start,
    )
