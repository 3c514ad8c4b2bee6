"""Projections of the model lifecycle: retraining runs, versions, comparisons, aliases.

A retraining run is assembled from events of two streams that may arrive in any order
(`retrain.requested` on `decisions`; `model.trained`, `model.compared`, `model.promoted`
on `models`). Each event type writes only its own group of columns, each group with the
id of the event that wrote it, and `status` is recomputed from the groups present — so
the row is the same whatever the arrival order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["AliasChangeRow", "ComparisonRow", "ModelVersionRow", "RetrainingRunRow", "RunStatus"]


class RunStatus:
    """Values of `retraining_runs.status`, from least to most advanced."""

    REQUESTED = "requested"
    TRAINED = "trained"
    FAILED = "failed"
    COMPARED = "compared"
    KEPT = "kept"
    PROMOTED = "promoted"


class RetrainingRunRow(Base):
    """One retraining request (keyed by the `retrain.requested` event id) and its outcome."""

    __tablename__ = "retraining_runs"

    request_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # retrain.requested
    requested_event_id: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime | None] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str | None]
    detail: Mapped[str | None] = mapped_column(Text)
    trigger_event_ids: Mapped[list[Any] | None]
    # model.trained (retrain_request_id = request_id)
    trained_event_id: Mapped[uuid.UUID | None]
    trained_at: Mapped[datetime | None]
    challenger_version: Mapped[int | None]
    challenger_run_id: Mapped[str | None]
    training_rows: Mapped[int | None]
    feedback_rows: Mapped[int | None]
    # model.compared (retrain_request_id = request_id)
    compared_event_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    compared_at: Mapped[datetime | None]
    champion_version: Mapped[int | None]
    compared_challenger_version: Mapped[int | None]
    mcnemar_p: Mapped[float | None]
    champion_metrics: Mapped[dict[str, Any] | None]
    challenger_metrics: Mapped[dict[str, Any] | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    naive_decision: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[list[Any] | None]
    # model.promoted (comparison_event_id = compared_event_id), derived on refresh
    promoted_event_id: Mapped[uuid.UUID | None]
    promoted_at: Mapped[datetime | None]
    # alert.raised with labels["retrain_request_id"] = request_id
    failed_event_id: Mapped[uuid.UUID | None]
    failed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(Text)


class ModelVersionRow(Base):
    """One registered model version (`model.trained`)."""

    __tablename__ = "model_versions"

    model_name: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(index=True)
    run_id: Mapped[str]
    metrics: Mapped[dict[str, Any]]
    training_rows: Mapped[int]
    feedback_rows: Mapped[int]
    dataset_sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float]
    retrain_request_id: Mapped[uuid.UUID | None]


class ComparisonRow(Base):
    """One `model.compared`: both metric sets, McNemar's test, decision and naive decision."""

    __tablename__ = "model_comparisons"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    model_name: Mapped[str]
    champion_version: Mapped[int]
    challenger_version: Mapped[int]
    champion_metrics: Mapped[dict[str, Any]]
    challenger_metrics: Mapped[dict[str, Any]]
    evaluation_sets: Mapped[list[Any]]
    champion_only_correct: Mapped[int]
    challenger_only_correct: Mapped[int]
    mcnemar_p: Mapped[float]
    decision: Mapped[str] = mapped_column(String(16))
    naive_decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]]
    retrain_request_id: Mapped[uuid.UUID | None] = mapped_column(index=True)


class AliasChangeRow(Base):
    """Every alias move: `model.promoted` (kind promoted) and `model.rolled_back`."""

    __tablename__ = "alias_history"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str]
    alias: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[int | None]
    to_version: Mapped[int]
    actor: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    comparison_event_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
