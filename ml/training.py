"""`spamops train` and the retrainer: fit the default model, log it, register it.

`train_and_register` is the one entry point; the retrainer (a later consumer) calls it
with labelled feedback as `extra`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ml.candidates import CandidateSpec, get_candidate
from ml.data import Corpus
from ml.evaluation import evaluate
from ml.fitting import (
    FittedModel,
    LabelledText,
    TrainingData,
    fit_candidate,
    prepare_data,
    single_threaded,
)
from ml.mlflow_store import open_store, probe
from ml.registry import ModelRegistry
from ml.tracking import LoggedRun, log_model_run
from schemas.common import ClassificationMetrics, ModelAlias, ModelRef
from schemas.models import TrainedModel
from spamops.settings import Settings

# The evaluation entry point lives in `ml.evaluation`; it is re-exported here because
# callers look for "train and evaluate" together (the retrainer, the comparison step).
__all__ = ["TrainingResult", "evaluate", "log_and_register", "train_and_register"]


@dataclass(frozen=True)
class TrainingResult:
    model: ModelRef
    run_id: str
    metrics: ClassificationMetrics
    """Held-out metrics (the fixed base-corpus split)."""
    cv: dict[str, tuple[float, float]]
    """5-fold CV mean and standard deviation per metric, on the training side."""
    duration_s: float
    training_rows: int
    feedback_rows: int
    dataset_sha256: str
    candidate: str

    def payload(self, retrain_request_id: UUID | None = None) -> TrainedModel:
        """The `model.trained` event payload."""
        return TrainedModel(
            model=self.model,
            run_id=self.run_id,
            metrics=self.metrics,
            training_rows=self.training_rows,
            feedback_rows=self.feedback_rows,
            dataset_sha256=self.dataset_sha256,
            duration_s=self.duration_s,
            retrain_request_id=retrain_request_id,
        )


def log_and_register(
    settings: Settings,
    fitted: FittedModel,
    data: TrainingData,
    *,
    started: float,
    run_name: str,
    parent_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    store: tuple[Any, str] | None = None,
) -> tuple[LoggedRun, int, ModelAlias]:
    """Log `fitted` into a new run (or the open `parent_run_id`) and register its model.

    `store` is the (client, experiment id) pair of `open_store`, if already opened.
    """
    import mlflow

    client, experiment_id = store or open_store(settings)
    tags = {"spamops.kind": "train", "candidate": fitted.spec.name} | (tags or {})
    if parent_run_id is None:
        run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name)
    else:
        run = mlflow.start_run(run_id=parent_run_id)
    with run:
        logged = log_model_run(
            client, fitted, data, settings, run_id=run.info.run_id, extra_tags=tags
        )
        version, alias = ModelRegistry(settings).register(
            logged,
            fitted.heldout.metrics,
            candidate=fitted.spec.name,
            threshold=settings.model.threshold,
        )
        client.set_tag(run.info.run_id, "registered_version", str(version))
        client.log_metric(run.info.run_id, "train_seconds", time.perf_counter() - started)
    return logged, version, alias


def train_and_register(
    settings: Settings,
    *,
    extra: Sequence[LabelledText] = (),
    candidate: CandidateSpec | None = None,
    corpus: Corpus | None = None,
) -> TrainingResult:
    """Train `candidate` (default: `settings.model.candidate`) on the base corpus + `extra`.

    `extra` is labelled production data, e.g. from `feedback`; texts that also occur in the
    held-out split are dropped from it so that held-out metrics stay comparable across
    versions. Returns the registered version, its alias and held-out metrics.
    """
    started = time.perf_counter()
    spec = candidate or get_candidate(settings.model.candidate)
    probe(settings)  # an unreachable server fails now, not after the fit
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlflow-open") as pool:
        opening = pool.submit(open_store, settings)
        data = prepare_data(settings, extra, corpus)
        with single_threaded():
            fitted = fit_candidate(spec, data, settings)
        store = opening.result()
    logged, version, alias = log_and_register(
        settings, fitted, data, started=started, run_name=f"train-{spec.name}", store=store
    )
    return TrainingResult(
        model=ModelRef(name=settings.model.registered_name, version=version, alias=alias),
        run_id=logged.run_id,
        metrics=fitted.heldout.metrics,
        cv=fitted.cv.summary(),
        duration_s=time.perf_counter() - started,
        training_rows=len(data.y_train),
        feedback_rows=data.extra_rows,
        dataset_sha256=data.sha256,
        candidate=spec.name,
    )
