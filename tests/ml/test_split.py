"""The duplicate-aware stratified split and the group folds inside it."""

from __future__ import annotations

import numpy as np

from ml.data import Corpus
from ml.split import group_folds, split_groups, text_key


def test_no_text_on_both_sides(corpus: Corpus) -> None:
    split = split_groups(corpus.texts, corpus.y, test_size=0.2, seed=42)
    train = {text_key(corpus.texts[i]) for i in split.train}
    test = {text_key(corpus.texts[i]) for i in split.test}
    assert not train & test
    raw_train = {corpus.texts[i] for i in split.train}
    assert not raw_train & {corpus.texts[i] for i in split.test}
    assert len(split.train) + len(split.test) == len(corpus)


def test_stratified_80_20_and_seeded(corpus: Corpus) -> None:
    y = corpus.y
    split = split_groups(corpus.texts, y, test_size=0.2, seed=42)
    assert 0.19 < len(split.test) / len(corpus) < 0.21
    assert abs(y[split.test].mean() - y[split.train].mean()) < 0.01
    again = split_groups(corpus.texts, y, test_size=0.2, seed=42)
    assert np.array_equal(split.test, again.test)
    other = split_groups(corpus.texts, y, test_size=0.2, seed=7)
    assert not np.array_equal(split.test, other.test)


def test_reports_duplicates(corpus: Corpus) -> None:
    split = split_groups(corpus.texts, corpus.y, test_size=0.2, seed=42)
    summary = split.summary()
    assert summary["split_duplicate_rows"] == 415  # identical up to case and spacing
    assert summary["split_groups"] == 5574 - 415


def test_text_key_ignores_case_and_spacing() -> None:
    assert text_key("Call  me\tNOW") == text_key("call me now")
    assert text_key("call me now") != text_key("call me later")


def test_group_folds_keep_groups_together_and_stratify() -> None:
    keys = [f"k{i // 3}" for i in range(300)]  # groups of three identical texts
    y = np.array([1 if (i // 3) % 7 == 0 else 0 for i in range(300)], dtype=np.int64)
    folds = group_folds(keys, y, n_splits=5, seed=42)
    seen: set[int] = set()
    for train, test in folds:
        assert not {keys[i] for i in train} & {keys[i] for i in test}
        assert 0 < y[test].sum() < len(test)
        seen |= set(test.tolist())
    assert seen == set(range(300))
