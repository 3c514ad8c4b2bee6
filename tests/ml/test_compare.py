from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from scipy.stats import binomtest

from ml.compare import EvalSet, compare_models, mcnemar_exact
from schemas.common import Label, ModelRef
from spamops.settings import RetrainSettings


class Fixed:
    """A model whose spam probabilities are given per text (an exact, reproducible double)."""

    threshold = 0.5

    def __init__(self, p: dict[str, float]) -> None:
        self.p = p

    def score_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.p[t] for t in texts])


REF1, REF2 = ModelRef(name="m", version=1), ModelRef(name="m", version=2)


def test_mcnemar_matches_the_binomial_test() -> None:
    a = np.array([True] * 50 + [True] * 2 + [False] * 12)
    b = np.array([True] * 50 + [False] * 2 + [True] * 12)
    r = mcnemar_exact(a, b)
    assert (r.champion_only_correct, r.challenger_only_correct) == (2, 12)
    assert r.p_value == pytest.approx(binomtest(12, 14, 0.5).pvalue)
    assert mcnemar_exact(a, a).p_value == 1.0


def _sets(n_ham: int, n_spam: int) -> tuple[list[str], list[Label]]:
    texts = [f"ham {i}" for i in range(n_ham)] + [f"spam {i}" for i in range(n_spam)]
    ham: list[Label] = ["ham"]
    spam: list[Label] = ["spam"]
    labels = ham * n_ham + spam * n_spam
    return texts, labels


def test_significant_gain_is_promoted_and_fpr_regression_is_not() -> None:
    texts, labels = _sets(200, 60)
    champ = Fixed(
        {t: (0.9 if t.startswith("spam") and int(t.split()[1]) < 30 else 0.1) for t in texts}
    )  # misses half the spam
    chall = Fixed({t: (0.9 if t.startswith("spam") else 0.1) for t in texts})
    sets = [EvalSet("heldout", texts, labels)]
    v = compare_models(
        champ, chall, sets, RetrainSettings(), champion_ref=REF1, challenger_ref=REF2
    )
    c = v.comparison
    assert c.decision == "promote" and c.mcnemar.challenger_only_correct == 30
    assert c.naive_decision == "promote" and c.evaluation_sets[0].n == 260

    noisy = Fixed(
        {t: (0.9 if t.startswith("spam") or int(t.split()[1]) < 5 else 0.1) for t in texts}
    )  # catches all spam but blocks 5 of 200 ham
    v = compare_models(
        champ,
        noisy,
        sets,
        RetrainSettings(ham_fpr_margin=0.002),
        champion_ref=REF1,
        challenger_ref=REF2,
    )
    assert v.comparison.decision == "keep"
    assert any("blocks promotion" in r for r in v.comparison.reasons)

    borderline = Fixed(
        {t: (0.9 if t.startswith("spam") or int(t.split()[1]) < 1 else 0.1) for t in texts}
    )  # one more ham blocked: beyond 0.002, but noise
    v = compare_models(
        champ,
        borderline,
        sets,
        RetrainSettings(ham_fpr_margin=0.002),
        champion_ref=REF1,
        challenger_ref=REF2,
    )
    assert v.comparison.decision == "promote"
    assert any("beyond" in r and "blocks" not in r for r in v.comparison.reasons)


def test_ham_regression_p() -> None:
    from ml.compare import ham_regression_p

    same = np.ones(100, dtype=bool)
    worse = same.copy()
    worse[:6] = False
    assert ham_regression_p(same, same) == 1.0
    assert ham_regression_p(same, worse) == pytest.approx(0.5**6)
    assert ham_regression_p(worse, same) == 1.0


def test_a_small_gain_is_not_significant() -> None:
    texts, labels = _sets(300, 50)
    champ = Fixed(
        {t: (0.1 if t in ("spam 0", "spam 1") else 0.9 if "spam" in t else 0.1) for t in texts}
    )
    chall = Fixed({t: (0.9 if "spam" in t else 0.1) for t in texts})
    v = compare_models(
        champ,
        chall,
        [EvalSet("h", texts, labels)],
        RetrainSettings(),
        champion_ref=REF1,
        challenger_ref=REF2,
    )
    assert v.comparison.decision == "keep" and v.comparison.mcnemar.p_value == 0.5
