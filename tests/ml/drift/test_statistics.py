"""Drift statistics on synthetic inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.drift.detector import binomial_pvalue, ks_pvalue
from ml.drift.domain import DomainSample, auc_and_separation, content_keys, fit_domain
from ml.drift.reference import Reference, score_histogram
from ml.drift.statistics import js_distance, ks_distance, measure, psi, total_variation
from ml.drift.window import WindowSample


def _ids(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def test_js_distance_known_values() -> None:
    same = js_distance(_ids(1, 2), np.array([0.5, 0.5]), _ids(1, 2), np.array([5.0, 5.0]))
    assert same == pytest.approx(0.0, abs=1e-12)
    disjoint = js_distance(_ids(1, 2), np.array([0.5, 0.5]), _ids(3), np.array([4.0]))
    assert disjoint == pytest.approx(1.0)
    # p = (1/2, 1/2), q = (1, 0): m = (3/4, 1/4)
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    half = js_distance(_ids(1, 2), np.array([0.5, 0.5]), _ids(1), np.array([3.0]))
    assert half == pytest.approx(math.sqrt((kl_p + kl_q) / 2))


def test_ks_distance_matches_scipy() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(1)
    ref, win = rng.normal(size=800), rng.normal(0.3, 1.2, size=120)
    expected = ks_2samp(ref, win)
    assert ks_distance(np.sort(ref), win) == pytest.approx(expected.statistic)
    asymptotic = ks_2samp(ref, win, method="asymp").pvalue
    assert ks_pvalue(expected.statistic, 120, 800) == pytest.approx(asymptotic, rel=0.1)
    assert ks_pvalue(0.0, 120, 800) == 1.0


def test_psi_and_total_variation() -> None:
    a = np.array([0.5, 0.5, 0.0])
    assert psi(a, a) == pytest.approx(0.0)
    b = np.array([0.25, 0.75, 0.0])
    assert psi(a, b) == pytest.approx(-0.25 * math.log(0.5) + 0.25 * math.log(1.5))
    assert total_variation(a, b) == pytest.approx(0.25)
    hist = score_histogram(np.array([0.0, 0.004, 0.5, 1.0]))
    assert hist.sum() == pytest.approx(1.0) and hist[0] == 0.5 and hist[-1] == 0.25


def test_binomial_pvalue_matches_scipy() -> None:
    from scipy.stats import binomtest

    for k, n, p in ((60, 500, 0.13), (100, 500, 0.13), (5, 100, 0.13), (0, 50, 0.2)):
        assert binomial_pvalue(k, n, p) == pytest.approx(binomtest(k, n, p).pvalue, rel=1e-6)
    assert binomial_pvalue(3, 10, 0.0) == 1.0


def test_auc_and_separation() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    scores = np.r_[rng.normal(size=300), rng.normal(1.0, size=100)]
    positive = np.r_[np.zeros(300, dtype=bool), np.ones(100, dtype=bool)]
    auc, sep = auc_and_separation(scores, positive)
    assert auc == pytest.approx(roc_auc_score(positive, scores))
    assert 0.2 < sep < 0.6
    assert auc_and_separation(np.ones(10), positive[295:305]) == (0.5, 0.0)  # all tied
    assert auc_and_separation(np.r_[np.zeros(5), np.ones(5)], positive[295:305]) == (1.0, 1.0)


def test_content_keys_are_stable_and_group_identical_messages() -> None:
    keys = content_keys([_ids(1, 2, 3), _ids(1, 2, 3), _ids(3, 2, 1), _ids(), _ids(1, 2)])
    assert keys[0] == keys[1] and len(set(keys.tolist())) == 4
    # Same value in every process (no salted hash): folds must be reproducible.
    assert int(content_keys([_ids(7, 8)])[0]) == int(content_keys([_ids(7, 8)])[0])
    assert content_keys([_ids(7, 8)]).tolist() == content_keys([_ids(7, 8), _ids(9)])[:1].tolist()


def test_domain_classifier_finds_a_planted_token() -> None:
    rng = np.random.default_rng(3)

    def messages(n: int, planted: float) -> list[np.ndarray]:
        out = []
        for _ in range(n):
            m = rng.integers(0, 300, size=12)
            if rng.random() < planted:
                m = np.r_[m, 999_999 % 262_144]
            out.append(m.astype(np.int64))
        return out

    sample = DomainSample.build(messages(600, 0.0))
    same = fit_domain(sample, messages(300, 0.0))
    assert 0.4 < same.auc < 0.6
    drifted = fit_domain(sample, messages(300, 0.5))
    assert drifted.auc > 0.7 and drifted.separation > 0.35
    top = int(np.argmax(drifted.weights))
    assert drifted.columns[top] == 999_999 % 262_144
    assert drifted.window_share[top] == pytest.approx(0.5, abs=0.08)


def test_vocabulary_statistics_count_unseen_tokens_exactly() -> None:
    ref_tokens = [_ids(1, 2, 3), _ids(2, 3, 4)] * 20
    reference = Reference(
        token_ids=_ids(1, 2, 3, 4),
        token_share=np.full(4, 0.25),
        shapes=tuple(np.sort(np.arange(40, dtype=float)) for _ in range(4)),
        score_hist=score_histogram(np.full(40, 0.1)),
        spam_rate=0.1,
        sample=DomainSample.build(ref_tokens),
        names={1: "a", 2: "b", 3: "c", 4: "d"},
        doc_ids=_ids(1, 2, 3, 4),
        doc_share=np.array([0.5, 1.0, 1.0, 0.5]),
    )
    window = WindowSample.build(
        [[1, 2, 9], [3, 4], [8, 8, 1, 2]] * 10,
        [[5, 1, 0, 0.1]] * 30,
        [0.1, 0.9, 0.2] * 10,
        [False, True, False] * 10,
    )
    m = measure(reference, window)
    assert m.values["oov_rate"] == pytest.approx(3 / 9)
    assert m.shares["unseen_tokens"] == pytest.approx(2 / 3)
    assert m.values["spam_rate_change"] == pytest.approx(1 / 3 - 0.1)
    assert m.spam_rate_delta == pytest.approx(1 / 3 - 0.1)
    assert m.values["length_ks"] == pytest.approx(
        ks_distance(reference.shapes[0], window.shapes[:, 0])
    )
