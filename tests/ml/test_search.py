"""The MCC-scored search: nested MLflow runs, and the selection rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from mlflow import MlflowClient

from ml.candidates import CandidateSpec, presets, search_grid
from ml.crossval import CVResult
from ml.data import Corpus
from ml.search import CandidateResult, run_search, select
from schemas.common import ClassificationMetrics
from spamops.settings import Settings


def _result(
    name: str, mccs: list[float], fpr: float, spec: CandidateSpec | None = None
) -> CandidateResult:
    folds = [
        ClassificationMetrics(
            n=100,
            accuracy=0.99,
            spam_precision=0.9,
            spam_recall=0.9,
            spam_f1=0.9,
            ham_fpr=fpr,
            mcc=m,
        )
        for m in mccs
    ]
    spec = spec or CandidateSpec(name=name, classifier="sgd")
    return CandidateResult(spec.with_name(name), CVResult(folds, np.zeros(1)), 0.1, "run")


def test_select_prefers_default_within_one_standard_error(base_settings: Settings) -> None:
    default = presets()["union-logreg"]
    results = [
        _result("default", [0.955, 0.962, 0.958, 0.953, 0.96], 0.001, default),
        _result("slightly-better", [0.965, 0.955, 0.962, 0.950, 0.963], 0.001),
        _result("noisy-fpr", [0.99, 0.99, 0.99, 0.99, 0.99], 0.01),
    ]
    best, why = select(results, base_settings)
    assert best.spec.name == "default"
    assert why == "default kept: slightly-better is within 1 paired SE"


def test_select_takes_a_clearly_better_candidate(base_settings: Settings) -> None:
    default = presets()["union-logreg"]
    results = [
        _result("default", [0.90, 0.91, 0.90, 0.91, 0.90], 0.001, default),
        _result("better", [0.96, 0.96, 0.96, 0.96, 0.961], 0.001),
    ]
    best, why = select(results, base_settings)
    assert (best.spec.name, why) == ("better", "best CV MCC")


def test_grid_covers_every_classifier() -> None:
    grid = search_grid()
    assert {s.classifier for s in grid} == {"logreg", "linear-svc", "complement-nb", "sgd"}
    assert {s.features for s in grid} == {"word", "char", "union"}
    assert len({s.name for s in grid}) == len(grid)


@pytest.mark.mlflow
def test_search_logs_nested_runs_and_registers_the_winner(
    make_ml_settings: Callable[..., Settings], small_corpus: Corpus
) -> None:
    settings = make_ml_settings()
    grid = [presets()["union-logreg"].with_name("a-logreg"), presets()["union-cnb"]]
    seen: list[tuple[int, int, str]] = []
    result = run_search(
        settings,
        grid=grid,
        corpus=small_corpus,
        progress=lambda i, n, r: seen.append((i, n, r.spec.name)),
    )
    assert seen == [(1, 2, "a-logreg"), (2, 2, "union-cnb")]
    client = MlflowClient(settings.resolved_mlflow_uri)
    parent = client.get_run(result.training.run_id)
    assert parent.data.tags["spamops.kind"] == "search"
    assert parent.data.tags["search_selection"] == result.reason
    assert "test_mcc" in parent.data.metrics
    for candidate in result.candidates:
        child = client.get_run(candidate.run_id)
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params["name"] == candidate.spec.name
        assert "cv_mcc_mean" in child.data.metrics and "cv_mcc_sd" in child.data.metrics
    assert result.training.model.version == 1
    assert result.training.model.alias == "champion"
    assert result.training.candidate == result.best.spec.name
