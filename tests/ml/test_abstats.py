"""A/B statistics: the sequential tests, their intervals, plans, counters and readings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln

from ml.abtest import (
    ARMS,
    AbTestCounts,
    ArmCounts,
    Design,
    Evidence,
    PairCounts,
    labelled_fields,
    look,
    offline_paired,
    paired_prior,
    paired_sample_size,
    read,
    served_fields,
    shadow_fields,
    split_sample_size,
)
from ml.abtest.sequential import (
    normal_mixture_log_lr,
    p_from_log_lr,
    paired_interval,
    paired_log_lr,
    split_estimate,
    split_interval,
)
from schemas.common import Label

SPLIT = Design(
    paired=False,
    alpha=0.05,
    min_effect=0.01,
    min_samples=1000,
    split=0.2,
    power=0.8,
    baseline_error=0.02,
)
PAIRED = Design(
    paired=True,
    alpha=0.05,
    min_effect=0.01,
    min_samples=1000,
    split=0.2,
    power=0.8,
    baseline_error=0.02,
)


def test_normal_mixture_matches_its_formula() -> None:
    theta, var, tau2 = 0.01, 2e-5, 1e-4
    expected = math.sqrt(var / (var + tau2)) * math.exp(tau2 * theta**2 / (2 * var * (var + tau2)))
    assert math.exp(normal_mixture_log_lr(theta, var, tau2)) == pytest.approx(expected)
    assert float(p_from_log_lr(normal_mixture_log_lr(0.0, var, tau2))) == 1.0


def test_paired_mixture_is_the_beta_binomial_ratio() -> None:
    b, c, a = 7, 20, 1.5
    expected = math.exp(betaln(c + a, b + a) - betaln(a, a)) / 0.5 ** (b + c)
    assert math.exp(paired_log_lr(b, c, a)) == pytest.approx(expected)
    # Symmetric prior: swapping who erred gives the same evidence.
    assert paired_log_lr(b, c, a) == pytest.approx(paired_log_lr(c, b, a))


@pytest.mark.parametrize("seed", range(3))
def test_intervals_exclude_no_difference_exactly_when_p_is_at_most_alpha(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        na, nb = (int(x) for x in rng.integers(100, 8000, size=2))
        pa = rng.uniform(0.005, 0.2)
        pb = float(np.clip(pa + rng.normal(0, 0.02), 0.001, 0.9))
        ea, eb = int(rng.binomial(na, pa)), int(rng.binomial(nb, pb))
        theta, var = split_estimate(ea, na, eb, nb)
        p = float(p_from_log_lr(normal_mixture_log_lr(theta, var, 1e-4)))
        low, high = split_interval(ea, na, eb, nb, 1e-4, 0.05)
        assert low <= theta <= high
        assert (low > 0 or high < 0) == (p <= 0.05)
        b, c = (int(x) for x in rng.integers(0, 60, size=2))
        p_pair = float(p_from_log_lr(paired_log_lr(b, c, 1.5)))
        lo, hi = paired_interval(b, c, 1.5, 0.05)
        assert lo <= (c / (b + c) if b + c else 0.5) <= hi
        assert (lo > 0.5 or hi < 0.5) == (p_pair <= 0.05)


def test_paired_interval_edges() -> None:
    assert paired_interval(0, 0, 1.0, 0.05) == (0.0, 1.0)
    low, high = paired_interval(0, 12, 1.0, 0.05)
    assert high == 1.0 and 0.5 < low < 1.0  # twelve of twelve: the challenger errs more
    low, high = paired_interval(12, 0, 1.0, 0.05)
    assert low == 0.0 and high < 0.5


def test_plans_grow_as_the_effect_shrinks_and_the_power_rises() -> None:
    small = split_sample_size(0.02, 0.005, 0.2, 0.05, 0.8)
    base = split_sample_size(0.02, 0.01, 0.2, 0.05, 0.8)
    assert small > 3 * base
    assert split_sample_size(0.02, 0.01, 0.2, 0.05, 0.95) > base
    assert split_sample_size(0.02, 0.01, 0.5, 0.05, 0.8) < base  # a balanced split is cheaper
    # Pairs need far fewer labels: only the messages the models disagree on count.
    prior = paired_prior(0.01, 0.02)
    assert paired_sample_size(0.02, 0.01, 0.05, 0.8, prior) < base / 5
    assert paired_sample_size(0.05, 0.01, 0.05, 0.8, prior) > paired_sample_size(
        0.02, 0.01, 0.05, 0.8, prior
    )


def test_counters_of_a_prediction_and_its_label() -> None:
    assert served_fields("challenger", 1.0) == ["challenger:served", "challenger:lat:141"]
    assert shadow_fields("spam", "ham", 1.0)[-1] == "shadow:disagree"
    assert shadow_fields("spam", "spam", 1.0) == served_fields("challenger", 1.0)
    assert labelled_fields("ham", "champion", "spam", None) == [
        "champion:n",
        "champion:ham",
        "champion:err",
        "champion:ham_fp",
    ]
    paired = labelled_fields("spam", "champion", "ham", "spam")
    assert "pair:b" in paired and "challenger:spam_hit" in paired and "pair:c" not in paired


def test_counts_from_a_redis_hash_give_arm_figures() -> None:
    raw = {
        b"champion:n": b"10",
        b"champion:err": b"2",
        b"champion:spam": b"4",
        b"champion:spam_hit": b"3",
        b"champion:ham": b"6",
        b"champion:ham_fp": b"1",
        b"champion:served": b"50",
        b"champion:lat:100": b"30",
        b"champion:lat:160": b"20",
    }
    arm = AbTestCounts.from_hash(raw).champion.stats("champion", 3)
    assert (arm.n, arm.errors, arm.error_rate, arm.predictions) == (10, 2, 0.2, 50)
    assert arm.spam_recall == 0.75 and arm.ham_fpr == pytest.approx(1 / 6)
    assert arm.latency_p50_ms == pytest.approx(0.001 * 1.05**100.5, rel=1e-3)
    assert arm.latency_p95_ms == pytest.approx(0.001 * 1.05**160.5, rel=1e-3)
    empty = AbTestCounts().challenger.stats("challenger", 4)
    assert empty.spam_recall is None and empty.latency_p50_ms is None


def _split(na: int, ea: int, nb: int, eb: int) -> AbTestCounts:
    return AbTestCounts(champion=ArmCounts(n=na, errors=ea), challenger=ArmCounts(n=nb, errors=eb))


def test_a_reading_concludes_only_once_each_arm_has_its_minimum() -> None:
    early = _split(4000, 120, 900, 5)  # the challenger looks far better, on 900 labels
    assert look(SPLIT, early).p_value < 0.05
    r = read(SPLIT, early, Evidence())
    assert not r.ready and r.verdict == "continue" and r.winner == "none"
    counts = _split(20000, 600, 5000, 100)
    r = read(SPLIT, counts, Evidence().merge(look(SPLIT, counts)))
    assert (r.verdict, r.winner) == ("significant", "challenger")
    assert r.effect == pytest.approx(-0.01) and r.ci_low < r.effect < r.ci_high < 0
    worse = _split(20000, 400, 5000, 200)
    r = read(SPLIT, worse, look(SPLIT, worse))
    assert (r.verdict, r.winner) == ("significant", "champion") and r.ci_low > 0


def test_running_evidence_only_tightens() -> None:
    first = Evidence(0.2, -0.02, 0.01)
    merged = first.merge(Evidence(0.5, -0.03, 0.005))
    assert merged == Evidence(0.2, -0.02, 0.005)
    assert first.merge(Evidence(0.4, 0.02, 0.03)) == Evidence(0.2, 0.02, 0.03)  # disjoint


def test_futility_and_plans_of_a_reading() -> None:
    same = _split(200_000, 4000, 50_000, 1000)
    r = read(SPLIT, same, look(SPLIT, same))
    assert (r.verdict, r.winner) == ("futility", "none")
    assert -0.01 < r.ci_low < 0 < r.ci_high < 0.01
    assert r.planned_samples == split_sample_size(0.02, 0.01, 0.2, 0.05, 0.8)


def test_a_paired_reading_uses_only_discordant_messages() -> None:
    counts = AbTestCounts(
        champion=ArmCounts(n=3000, errors=90, served=3000),
        challenger=ArmCounts(n=3000, errors=60, served=3000),
        pair=PairCounts(n=3000, b=50, c=20),
        disagree=70,
    )
    r = read(PAIRED, counts, look(PAIRED, counts))
    assert (r.verdict, r.winner) == ("significant", "challenger")
    assert r.effect == pytest.approx(-0.01) and r.ci_low < r.effect < r.ci_high < 0
    assert r.planned_samples == paired_sample_size(0.023, 0.01, 0.05, 0.8, paired_prior(0.01, 0.02))


def test_offline_paired_reports_like_a_shadow_test() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    truth: list[Label] = ["spam" if x else "ham" for x in rng.random(n) < 0.13]
    flip: dict[Label, Label] = {"spam": "ham", "ham": "spam"}
    champion = [flip[t] if u < 0.04 else t for t, u in zip(truth, rng.random(n), strict=True)]
    challenger = [flip[t] if u < 0.01 else t for t, u in zip(truth, rng.random(n), strict=True)]
    design = Design(
        paired=True,
        alpha=0.05,
        min_effect=0.01,
        min_samples=500,
        split=0.2,
        power=0.8,
        baseline_error=0.02,
    )
    result = offline_paired(
        truth, champion, challenger, design, champion_ms=[0.2] * n, challenger_ms=[0.3] * n
    )
    r = result.reading
    assert (r.verdict, r.winner) == ("significant", "challenger")
    assert result.stopped_at is not None and 500 <= result.stopped_at < n
    assert result.stopped_verdict == "significant" and result.mcnemar_p < r.p_value
    arms = {v: result.counts.arm(v) for v in ARMS}
    assert arms["champion"].n == arms["challenger"].n == n
    assert arms["champion"].served == n and arms["challenger"].latency_quantile(0.5) == (
        pytest.approx(0.3, rel=0.05)
    )
    with pytest.raises(ValueError, match="same messages"):
        offline_paired(truth, champion[:-1], challenger, design)
