"""Simulated A/B tests with known error rates (seeded, vectorised; a few seconds).

The issue's bar: the better arm wins in ≥ 95% of runs at the planned sample size, and A/A
runs declare a winner in ≤ alpha of runs although the test is read every 100 samples.
Run counts give a standard error of about 0.3 points on the A/A rates; the figures in
docs/abtesting.md come from `bench/abtest_eval.py` with more runs.
"""

from __future__ import annotations

import pytest

from ml.abtest import (
    paired_prior,
    paired_sample_size,
    simulate_paired,
    simulate_split,
    split_sample_size,
)

ALPHA = 0.05
AA_RUNS = 5000


@pytest.mark.parametrize("error", [0.02, 0.1])
def test_split_aa_false_winners_stay_below_alpha_with_a_look_every_100(error: float) -> None:
    r = simulate_split(
        error, error, split=0.2, samples=30_000, runs=AA_RUNS, min_samples=100, seed=11
    )
    assert r.winners <= ALPHA
    assert r.challenger_wins <= ALPHA / 2  # a false promotion is the costly mistake
    assert r.naive_winners > 4 * ALPHA  # reading a fixed-sample test at every look


def test_paired_aa_false_winners_stay_below_alpha_with_a_look_every_100() -> None:
    prior = paired_prior(0.01, 0.02)
    r = simulate_paired(
        0.02, 0.02, 0.01, samples=30_000, runs=AA_RUNS, prior=prior, min_samples=100, seed=12
    )
    assert r.winners <= ALPHA
    assert r.naive_winners > 4 * ALPHA


@pytest.mark.parametrize(("champion", "challenger"), [(0.03, 0.02), (0.02, 0.03)])
def test_split_the_better_arm_wins_at_the_planned_size(champion: float, challenger: float) -> None:
    n = split_sample_size(0.02, 0.01, 0.2, ALPHA, 0.95)
    r = simulate_split(
        champion, challenger, split=0.2, samples=n, runs=2000, min_samples=1000, seed=13
    )
    better = r.challenger_wins if challenger < champion else r.champion_wins
    worse = r.champion_wins if challenger < champion else r.challenger_wins
    assert better >= 0.95 and worse == 0.0
    assert r.median_stop is not None and r.median_stop < n  # stops early when it can


@pytest.mark.parametrize(("champion", "challenger"), [(0.03, 0.02), (0.02, 0.03)])
def test_paired_the_better_arm_wins_at_the_planned_size(champion: float, challenger: float) -> None:
    prior = paired_prior(0.01, 0.02)
    discordance = champion + challenger - 2 * 0.01
    n = paired_sample_size(discordance, 0.01, ALPHA, 0.95, prior)
    r = simulate_paired(
        champion, challenger, 0.01, samples=n, runs=2000, prior=prior, min_samples=1000, seed=14
    )
    better = r.challenger_wins if challenger < champion else r.champion_wins
    assert better >= 0.95


def test_the_default_plan_reaches_at_least_its_power() -> None:
    """Plans for power 0.8 ignore the earlier looks' chances, so they err on the safe side."""
    n = split_sample_size(0.02, 0.01, 0.2, ALPHA, 0.8)
    r = simulate_split(0.03, 0.02, split=0.2, samples=n, runs=2000, min_samples=1000, seed=15)
    assert r.challenger_wins >= 0.8
