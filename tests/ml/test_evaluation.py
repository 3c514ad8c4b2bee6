"""Metrics and per-message predictions, for a pipeline and for a loaded (JSON) model."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluation import evaluate
from ml.fitting import FittedModel, TrainingData
from ml.metrics import classification_metrics
from ml.serving import LoadedModel
from schemas.common import ModelRef


def test_metrics_on_a_known_confusion() -> None:
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=np.int64)
    p = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1])
    m = classification_metrics(y, p, 0.5)  # tp 3, fn 1, fp 1, tn 5
    assert m.accuracy == 0.8
    assert m.spam_precision == 0.75
    assert m.spam_recall == 0.75
    assert m.ham_fpr == pytest.approx(1 / 6)
    assert m.mcc == pytest.approx((3 * 5 - 1 * 1) / np.sqrt(4 * 4 * 6 * 6))
    assert m.roc_auc is not None and m.pr_auc is not None


def test_single_class_has_no_auc() -> None:
    m = classification_metrics(np.zeros(3, dtype=np.int64), np.array([0.1, 0.2, 0.9]), 0.5)
    assert m.roc_auc is None
    assert m.ham_fpr == pytest.approx(1 / 3)
    assert m.mcc == 0.0


def test_held_out_targets_are_met(fitted: FittedModel) -> None:
    m = fitted.heldout.metrics
    assert m.n == 1103
    assert m.accuracy >= 0.99
    assert m.spam_f1 >= 0.97
    assert m.mcc >= 0.965
    assert m.ham_fpr <= 0.002


def test_pipeline_and_loaded_model_agree(fitted: FittedModel, training_data: TrainingData) -> None:
    model = LoadedModel(
        ModelRef(name="spam-classifier", version=1, alias="champion"),
        fitted.scorer,
        fitted.profile,
        0.5,
    )
    labels = ["spam" if v else "ham" for v in training_data.y_test.tolist()]
    by_model = evaluate(model, training_data.test_texts, labels)
    by_pipeline = evaluate(fitted.pipeline, training_data.test_texts, training_data.y_test)
    assert by_model.metrics.accuracy == by_pipeline.metrics.accuracy
    assert by_model.metrics.mcc == pytest.approx(by_pipeline.metrics.mcc)
    assert np.array_equal(by_model.correct, by_pipeline.correct)
    predictions = by_model.predictions()
    assert len(predictions) == 1103
    wrong = [p for p in predictions if not p.correct]
    assert len(wrong) == int((~by_model.correct).sum())
    assert all(p.predicted != p.label for p in wrong)
    assert model.label(0.5) == "spam"
    assert model.label(0.49) == "ham"
