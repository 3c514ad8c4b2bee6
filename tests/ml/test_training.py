"""A real training run against MLflow (SQLite backend in a temp dir): what gets logged."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from ml.data import Corpus
from ml.errors import TrainingError
from ml.fitting import prepare_data
from ml.training import TrainingResult
from spamops.settings import Settings

pytestmark = pytest.mark.mlflow


def test_run_has_metrics_params_tags(trained: tuple[Settings, TrainingResult]) -> None:
    settings, result = trained
    run = MlflowClient(settings.resolved_mlflow_uri).get_run(result.run_id)
    metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
    for name in ("accuracy", "spam_precision", "spam_recall", "spam_f1", "ham_fpr", "mcc"):
        assert f"test_{name}" in metrics
        assert f"cv_{name}_mean" in metrics and f"cv_{name}_sd" in metrics
    assert {"test_roc_auc", "test_pr_auc", "train_seconds", "cv_seconds", "n_features"} <= set(
        metrics
    )
    assert params["classifier"] == "logreg"
    assert params["seed"] == "42"
    assert params["extra_rows"] == "2"
    assert (
        tags["dataset_sha256"] == result.dataset_sha256
        or tags["training_sha256"] == result.dataset_sha256
    )
    assert tags["dataset_rows"] == "1858"
    assert tags["git_commit"]
    assert tags["registered_version"] == str(result.model.version)
    assert int(tags["split_duplicate_rows"]) > 0


def test_artifacts(trained: tuple[Settings, TrainingResult], tmp_path: Path) -> None:
    settings, result = trained
    client = MlflowClient(settings.resolved_mlflow_uri)
    listed = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"serving", "plots", "features", "data", "evaluation"} <= listed
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert plots == {f"plots/{n}.png" for n in ("confusion_matrix", "roc", "pr", "calibration")}
    local = client.download_artifacts(result.run_id, "features", str(tmp_path))
    top = json.loads((Path(local) / "top_features.json").read_text())
    assert len(top["spam"]) == 25 and top["spam"][0][1] > 0 > top["ham"][0][1]


def test_model_logged_with_signature_and_loads_in_pyfunc(
    trained: tuple[Settings, TrainingResult],
) -> None:
    settings, result = trained
    mlflow.set_tracking_uri(settings.resolved_mlflow_uri)
    uri = f"models:/{settings.model.registered_name}/{result.model.version}"
    info = mlflow.models.get_model_info(uri)
    assert info.signature.inputs.input_names() == ["text"]
    assert info.saved_input_example_info is not None
    model = mlflow.pyfunc.load_model(uri)
    import pandas as pd

    proba = model.predict(
        pd.DataFrame({"text": ["WIN a £1000 prize! call 09061701461", "ok see u"]})
    )
    assert proba.shape == (2, 2)
    assert proba[0, 1] > 0.5 > proba[1, 1]


def test_result_and_event_payload(
    trained: tuple[Settings, TrainingResult], small_corpus: Corpus
) -> None:
    settings, result = trained
    assert result.model.alias == "champion"
    assert result.feedback_rows == 2
    base = prepare_data(settings, corpus=small_corpus)
    assert result.training_rows == len(base.train_texts) + 2
    assert result.metrics.accuracy > 0.95
    payload = result.payload()
    assert payload.model == result.model
    assert payload.dataset_sha256 == result.dataset_sha256


def test_extra_data_is_validated_and_kept_out_of_the_test_split(base_settings: Settings) -> None:
    with pytest.raises(TrainingError, match=r"extra message #0 must be \(text, 'ham'\|'spam'\)"):
        prepare_data(base_settings, [("hello", "maybe")])  # type: ignore[list-item]
    data = prepare_data(base_settings)
    leaked = data.test_texts[0]
    with_extra = prepare_data(base_settings, [(leaked, "ham"), ("brand new text", "ham")])
    assert with_extra.extra_rows == 1
    assert with_extra.extra_dropped == 1
    assert with_extra.sha256 != data.sha256
    assert with_extra.test_texts == data.test_texts
