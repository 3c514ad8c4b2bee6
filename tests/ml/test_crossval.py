"""The count-once CV and final fit equal what sklearn computes the usual way."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ml.candidates import build_pipeline, get_candidate
from ml.crossval import FeatureCache, fold_matrices
from ml.fitting import FittedModel, TrainingData
from ml.split import group_folds


def test_fold_matrices_equal_fitting_the_vectorizers(training_data: TrainingData) -> None:
    spec = get_candidate("union-logreg")
    cache = FeatureCache(training_data.train_texts)
    train, test = group_folds(training_data.train_keys, training_data.y_train, n_splits=5, seed=42)[
        0
    ]
    x_train, x_test = fold_matrices(cache.blocks(spec), train, test)
    features = clone(build_pipeline(spec, 42).named_steps["features"])
    docs = cache.normalised(spec)
    y_train = features.fit_transform([docs[i] for i in train])
    y_test = features.transform([docs[i] for i in test])
    assert x_train.shape == y_train.shape
    assert x_test.shape == y_test.shape
    assert abs(x_train - y_train).max() < 1e-12
    assert abs(x_test - y_test).max() < 1e-12


def test_final_fit_from_counts_equals_pipeline_fit(
    fitted: FittedModel, training_data: TrainingData
) -> None:
    reference = build_pipeline(fitted.spec, 42).fit(
        training_data.train_texts, training_data.y_train
    )
    texts = training_data.test_texts
    ours = fitted.pipeline.predict_proba(texts)[:, 1]
    theirs = reference.predict_proba(texts)[:, 1]
    assert np.max(np.abs(ours - theirs)) < 1e-8
    word = fitted.pipeline.named_steps["features"].transformer_list[0][1]
    assert word.vocabulary_ == reference.named_steps["features"].transformer_list[0][1].vocabulary_


def test_cv_reports_five_folds(fitted: FittedModel) -> None:
    summary = fitted.cv.summary()
    assert len(fitted.cv.folds) == 5
    assert 0.9 < summary["mcc"][0] < 1.0
    assert summary["mcc"][1] > 0
    assert fitted.cv.oof.shape == (4471,)
