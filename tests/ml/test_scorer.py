"""The compiled JSON scorer gives sklearn's probability (|Δp| ≤ 1e-9) on every message."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ml.candidates import CandidateSpec, build_pipeline, presets
from ml.compile import compile_pipeline
from ml.data import Corpus
from ml.errors import CompileError
from ml.fitting import FittedModel, single_threaded
from ml.scorer import FastScorer, sigmoid
from ml.scorer_spec import ScorerSpec


def test_parity_on_every_corpus_message(fitted: FittedModel, corpus: Corpus) -> None:
    texts = list(corpus.texts)
    expected = fitted.pipeline.predict_proba(texts)[:, 1]
    scorer = FastScorer(ScorerSpec.from_json(fitted.scorer.to_json()))  # through JSON
    actual = scorer.score_batch(texts)
    assert len(actual) == 5574
    assert np.max(np.abs(actual - expected)) <= 1e-9
    assert scorer.score(texts[2]) == actual[2]


@pytest.mark.parametrize(
    "name", ["word-logreg", "char-logreg", "union-svc", "union-cnb", "union-sgd"]
)
def test_parity_for_every_candidate_kind(name: str, small_corpus: Corpus, corpus: Corpus) -> None:
    spec = presets()[name]
    with single_threaded():
        pipeline = build_pipeline(spec, seed=42).fit(list(small_corpus.texts), small_corpus.y)
    texts = list(corpus.texts[1::5])
    expected = pipeline.predict_proba(texts)[:, 1]
    actual = FastScorer(compile_pipeline(pipeline)).score_batch(texts)
    assert np.max(np.abs(actual - expected)) <= 1e-9


def test_raw_tf_and_single_word_ngrams(small_corpus: Corpus) -> None:
    spec = CandidateSpec(name="t", sublinear_tf=False, word_ngrams=(1, 1), char_ngrams=(1, 3))
    pipeline = build_pipeline(spec, seed=42).fit(list(small_corpus.texts), small_corpus.y)
    texts = ["", "!!!", "a", "Call call CALL now now", *small_corpus.texts[:300]]
    expected = pipeline.predict_proba(texts)[:, 1]
    assert (
        np.max(np.abs(FastScorer(compile_pipeline(pipeline)).score_batch(texts) - expected)) <= 1e-9
    )


def test_message_with_no_known_ngram_scores_the_intercept(fitted: FittedModel) -> None:
    scorer = FastScorer(fitted.scorer)
    expected = sigmoid(fitted.scorer.heads[0].intercept)
    assert scorer.score("") == pytest.approx(expected, abs=1e-15)
    assert scorer.score("\u4e2d\u6587") == pytest.approx(
        fitted.pipeline.predict_proba(["\u4e2d\u6587"])[0, 1], abs=1e-9
    )


def _fit_with(small_corpus: Corpus, **changes: Any) -> Any:
    pipeline = build_pipeline(presets()["union-logreg"], seed=42)
    pipeline.set_params(**changes)
    return pipeline.fit(list(small_corpus.texts[:400]), small_corpus.y[:400])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features__word__stop_words": ["the"]}, "stop words"),
        ({"features__char__norm": "l1"}, "norm 'l1'"),
    ],
)
def test_refuses_what_it_cannot_reproduce(
    small_corpus: Corpus, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(CompileError, match=message):
        compile_pipeline(_fit_with(small_corpus, **changes))


def test_refuses_isotonic_calibration(small_corpus: Corpus) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    clf = CalibratedClassifierCV(LinearSVC(), method="isotonic", cv=3)
    with pytest.raises(CompileError, match="only sigmoid calibration"):
        compile_pipeline(_fit_with(small_corpus, classifier=clf))


def test_json_is_data_and_validated(fitted: FittedModel) -> None:
    blob = fitted.scorer.to_json()
    assert blob.startswith(b'{"format":"spamops.linear-scorer","version":1')
    with pytest.raises(CompileError, match=r"not a valid spamops\.linear-scorer"):
        ScorerSpec.from_json(blob.replace(b'"version":1', b'"version":9'))
    assert ScorerSpec.from_json(blob) == fitted.scorer
