"""`spamops train --search`: cross-validated search over the candidate grid, scored by MCC.

Each candidate is a nested MLflow run under one parent "search" run. The choice uses
cross-validation on the training side only (`select`); the held-out split never influences
it. The winner is refitted on the whole training side, evaluated once on the held-out
split, logged into the parent run and registered.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ml.candidates import CandidateSpec, get_candidate, search_grid
from ml.crossval import CVResult, FeatureCache, cross_validate
from ml.data import Corpus
from ml.fitting import LabelledText, fit_candidate, prepare_data, single_threaded
from ml.mlflow_store import ensure_experiment, use_store
from ml.split import group_folds
from ml.tracking import log_candidate_run
from ml.training import TrainingResult, log_and_register
from schemas.common import ModelRef
from spamops.settings import Settings

__all__ = ["CandidateResult", "SearchResult", "run_search", "select"]


@dataclass(frozen=True)
class CandidateResult:
    spec: CandidateSpec
    cv: CVResult
    seconds: float
    run_id: str

    @property
    def mcc(self) -> float:
        return self.cv.mcc_mean


@dataclass(frozen=True)
class SearchResult:
    candidates: list[CandidateResult]
    best: CandidateResult
    reason: str
    """Why `best` was chosen (see `select`)."""
    training: TrainingResult


Progress = Callable[[int, int, CandidateResult], None]


def select(results: Sequence[CandidateResult], settings: Settings) -> tuple[CandidateResult, str]:
    """The candidate to register, by CV MCC with two guards an operator would insist on.

    1. Eligible: CV mean ham false-positive rate ≤ `max_ham_fpr` (all, if none is).
    2. Best: highest CV mean MCC among the eligible (earlier grid entry on ties).
    3. One-standard-error rule, paired: every candidate is scored on the same folds, so
       the best is compared with the configured default fold by fold. Unless its mean
       gain exceeds one standard error of those per-fold differences, the default stays:
       a gain that small is a message or two per fold, and re-architecting production
       on noise is churn.
    """
    eligible = [r for r in results if r.cv.summary()["ham_fpr"][0] <= settings.model.max_ham_fpr]
    pool = eligible or list(results)
    best = max(pool, key=lambda r: (r.mcc, -pool.index(r)))
    default_spec = get_candidate(settings.model.candidate).with_name("")
    default = next((r for r in pool if r.spec.with_name("") == default_spec), None)
    if default is best:
        return best, "best CV MCC (the default)"
    if default is not None:
        gains = [b.mcc - d.mcc for b, d in zip(best.cv.folds, default.cv.folds, strict=True)]
        se = statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else 0.0
        if statistics.fmean(gains) <= se:
            return default, f"default kept: {best.spec.name} is within 1 paired SE"
    return best, "best CV MCC" + ("" if eligible else " (no candidate met max_ham_fpr)")


def run_search(
    settings: Settings,
    *,
    grid: Sequence[CandidateSpec] | None = None,
    extra: Sequence[LabelledText] = (),
    corpus: Corpus | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """CV every candidate, register the best; `progress(done, total, result)` after each."""
    import mlflow

    started = time.perf_counter()
    grid = list(grid or search_grid())
    data = prepare_data(settings, extra, corpus)
    seed = settings.model.seed
    folds = group_folds(data.train_keys, data.y_train, n_splits=settings.model.cv_folds, seed=seed)
    cache = FeatureCache(data.train_texts)
    client = use_store(settings)
    experiment_id = ensure_experiment(client, settings)
    parent = client.create_run(
        experiment_id, run_name="search", tags={"spamops.kind": "search"}
    ).info.run_id
    results: list[CandidateResult] = []
    with single_threaded():
        for i, spec in enumerate(grid, start=1):
            t0 = time.perf_counter()
            cv = cross_validate(
                spec, cache, data.y_train, folds, seed=seed, threshold=settings.model.threshold
            )
            seconds = time.perf_counter() - t0
            run_id = log_candidate_run(
                client, experiment_id, parent, cv.summary(), spec.params(), seconds
            )
            results.append(CandidateResult(spec, cv, seconds, run_id))
            if progress is not None:
                progress(i, len(grid), results[-1])
        best, reason = select(results, settings)
        fitted = fit_candidate(best.spec, data, settings, cache=cache, cv=best.cv)
    mlflow.end_run()  # nothing of ours is active; make sure the parent can be resumed
    logged, version, alias = log_and_register(
        settings,
        fitted,
        data,
        started=started,
        run_name="search",
        parent_run_id=parent,
        tags={
            "spamops.kind": "search",
            "search_candidates": str(len(grid)),
            "search_selection": reason,
        },
    )
    training = TrainingResult(
        model=ModelRef(name=settings.model.registered_name, version=version, alias=alias),
        run_id=logged.run_id,
        metrics=fitted.heldout.metrics,
        cv=fitted.cv.summary(),
        duration_s=time.perf_counter() - started,
        training_rows=len(data.y_train),
        feedback_rows=data.extra_rows,
        dataset_sha256=data.sha256,
        candidate=best.spec.name,
    )
    return SearchResult(candidates=results, best=best, reason=reason, training=training)
