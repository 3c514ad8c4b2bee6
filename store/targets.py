"""Where each kind of event writes: one `Target` per table or column group.

Tables written by one event type are owned whole. A retraining run and an A/B test are
assembled from several event types, each owning a group of columns with its own version
column (the id of the event that wrote the group), so the groups merge in any order.
"""

from __future__ import annotations

import uuid
from typing import Any

from store.tables import (
    AbTestRow,
    AlertDeliveryRow,
    AlertRow,
    AliasChangeRow,
    ComparisonRow,
    DecisionRow,
    DriftWindowRow,
    FeedbackRow,
    ModelVersionRow,
    PerformanceWindowRow,
    PredictionRow,
    RetrainingRunRow,
    RunStatus,
)
from store.upsert import Target

__all__ = ["TARGETS", "Write", "run_write", "write"]

Write = tuple[Target, dict[str, Any]]
"""One row (or column group) to upsert into a target."""


def _whole(name: str, model: Any, key: tuple[str, ...], version: str = "event_id") -> Target:
    """A target that owns every column of its table but the key."""
    table = model.__table__
    columns = tuple(c.name for c in table.columns if c.name not in key)
    return Target(name, table, key, version, columns)


def _group(name: str, model: Any, key: str, version: str, columns: tuple[str, ...]) -> Target:
    return Target(name, model.__table__, (key,), version, (version, *columns))


_RUNS_REQUESTED = ("requested_at", "reason", "requested_by", "detail", "trigger_event_ids")
_RUNS_TRAINED = (
    "trained_at",
    "challenger_version",
    "challenger_run_id",
    "training_rows",
    "feedback_rows",
)
_RUNS_COMPARED = (
    "compared_at",
    "champion_version",
    "compared_challenger_version",
    "mcnemar_p",
    "champion_metrics",
    "challenger_metrics",
    "decision",
    "naive_decision",
    "reasons",
)
_AB_STARTED = (
    "started_at",
    "model_name",
    "champion_version",
    "challenger_version",
    "mode",
    "split",
    "routing_key",
    "min_samples",
    "min_effect",
    "alpha",
    "max_duration_s",
    "started_by",
)
_AB_UPDATED = ("updated_at", "arms", "p_value", "planned_samples")
_AB_CONCLUDED = (
    "concluded_at",
    "winner",
    "conclusion_reason",
    "effect",
    "ci_low",
    "ci_high",
    "final_p_value",
    "final_arms",
)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _whole("predictions", PredictionRow, ("prediction_id",)),
        _whole("feedback", FeedbackRow, ("prediction_id",)),
        _whole("drift_windows", DriftWindowRow, ("window_id",)),
        _whole(
            "performance_windows",
            PerformanceWindowRow,
            ("window_id", "model_name", "model_version"),
        ),
        _whole("model_versions", ModelVersionRow, ("model_name", "version")),
        _whole("model_comparisons", ComparisonRow, ("event_id",)),
        _whole("alias_history", AliasChangeRow, ("event_id",)),
        _whole("decisions", DecisionRow, ("event_id",)),
        _whole("alerts", AlertRow, ("event_id",)),
        _whole("alert_deliveries", AlertDeliveryRow, ("event_id",)),
        _group(
            "runs.requested", RetrainingRunRow, "request_id", "requested_event_id", _RUNS_REQUESTED
        ),
        _group("runs.trained", RetrainingRunRow, "request_id", "trained_event_id", _RUNS_TRAINED),
        _group(
            "runs.compared", RetrainingRunRow, "request_id", "compared_event_id", _RUNS_COMPARED
        ),
        _group(
            "runs.failed",
            RetrainingRunRow,
            "request_id",
            "failed_event_id",
            ("failed_at", "failure"),
        ),
        _group("abtests.started", AbTestRow, "abtest_id", "started_event_id", _AB_STARTED),
        _group("abtests.updated", AbTestRow, "abtest_id", "updated_event_id", _AB_UPDATED),
        _group("abtests.concluded", AbTestRow, "abtest_id", "concluded_event_id", _AB_CONCLUDED),
    )
}


def write(target: str, row: dict[str, Any]) -> Write:
    return TARGETS[target], row


def run_write(target: str, request_id: uuid.UUID, row: dict[str, Any]) -> Write:
    """A column group of a retraining run; `status` is a placeholder until `refresh_runs`."""
    return TARGETS[target], {"request_id": request_id, "status": RunStatus.REQUESTED, **row}
