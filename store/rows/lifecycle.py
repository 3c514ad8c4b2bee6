"""Rows of the model lifecycle: requests, trainings, comparisons, alias moves."""

from __future__ import annotations

from typing import Any

from schemas.events import (
    ModelCompared,
    ModelPromoted,
    ModelRolledBack,
    ModelTrained,
    RetrainRequested,
)
from store.targets import Write, run_write, write

__all__ = ["compared_rows", "promoted_rows", "retrain_rows", "rolled_back_rows", "trained_rows"]


def retrain_rows(e: RetrainRequested) -> list[Write]:
    p = e.payload
    run = {
        "requested_event_id": e.id,
        "requested_at": e.occurred_at,
        "reason": p.reason,
        "requested_by": p.requested_by,
        "detail": p.detail,
        "trigger_event_ids": [str(i) for i in p.trigger_event_ids],
    }
    return [run_write("runs.requested", e.id, run)]


def trained_rows(e: ModelTrained) -> list[Write]:
    p = e.payload
    version = {
        "model_name": p.model.name,
        "version": p.model.version,
        "event_id": e.id,
        "created_at": e.occurred_at,
        "run_id": p.run_id,
        "metrics": p.metrics.model_dump(mode="json"),
        "training_rows": p.training_rows,
        "feedback_rows": p.feedback_rows,
        "dataset_sha256": p.dataset_sha256,
        "duration_s": p.duration_s,
        "retrain_request_id": p.retrain_request_id,
    }
    writes = [write("model_versions", version)]
    if p.retrain_request_id is not None:
        run = {
            "trained_event_id": e.id,
            "trained_at": e.occurred_at,
            "challenger_version": p.model.version,
            "challenger_run_id": p.run_id,
            "training_rows": p.training_rows,
            "feedback_rows": p.feedback_rows,
        }
        writes.append(run_write("runs.trained", p.retrain_request_id, run))
    return writes


def compared_rows(e: ModelCompared) -> list[Write]:
    p = e.payload
    verdict: dict[str, Any] = {
        "champion_version": p.champion.version,
        "mcnemar_p": p.mcnemar.p_value,
        "champion_metrics": p.champion_metrics.model_dump(mode="json"),
        "challenger_metrics": p.challenger_metrics.model_dump(mode="json"),
        "decision": p.decision,
        "naive_decision": p.naive_decision,
        "reasons": list(p.reasons),
    }
    comparison = {
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "model_name": p.champion.name,
        "challenger_version": p.challenger.version,
        "evaluation_sets": [s.model_dump(mode="json") for s in p.evaluation_sets],
        "champion_only_correct": p.mcnemar.champion_only_correct,
        "challenger_only_correct": p.mcnemar.challenger_only_correct,
        "retrain_request_id": p.retrain_request_id,
        **verdict,
    }
    writes = [write("model_comparisons", comparison)]
    if p.retrain_request_id is not None:
        run = {
            "compared_event_id": e.id,
            "compared_at": e.occurred_at,
            "compared_challenger_version": p.challenger.version,
            **verdict,
        }
        writes.append(run_write("runs.compared", p.retrain_request_id, run))
    return writes


def _alias_change(e: ModelPromoted | ModelRolledBack, **values: Any) -> list[Write]:
    p = e.payload
    row = {
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "model_name": p.model_name,
        "actor": p.actor,
        "reason": p.reason,
        **values,
    }
    return [write("alias_history", row)]


def promoted_rows(e: ModelPromoted) -> list[Write]:
    p = e.payload
    return _alias_change(
        e,
        kind="promoted",
        alias=p.alias,
        from_version=p.previous_version,
        to_version=p.version,
        comparison_event_id=p.comparison_event_id,
    )


def rolled_back_rows(e: ModelRolledBack) -> list[Write]:
    p = e.payload
    return _alias_change(
        e,
        kind="rolled_back",
        alias="champion",
        from_version=p.from_version,
        to_version=p.to_version,
        comparison_event_id=None,
    )
