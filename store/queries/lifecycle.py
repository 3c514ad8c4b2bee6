"""Retraining history, comparisons, model versions and alias history."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from store.records import (
    AliasChangeRecord,
    ComparisonRecord,
    ComparisonSummary,
    ModelVersionRecord,
    RetrainingRunRecord,
)
from store.tables import AliasChangeRow, ComparisonRow, ModelVersionRow, RetrainingRunRow

__all__ = [
    "alias_history",
    "current_aliases",
    "latest_comparison",
    "model_versions",
    "retraining_history",
    "retraining_run",
    "version_record",
]


def _run_time() -> ColumnElement[Any]:
    r = RetrainingRunRow
    return func.coalesce(r.requested_at, r.trained_at, r.compared_at, r.failed_at)


def _summary(row: RetrainingRunRow) -> ComparisonSummary | None:
    if row.compared_event_id is None:
        return None
    return ComparisonSummary.model_validate(
        {
            "event_id": row.compared_event_id,
            "compared_at": row.compared_at,
            "champion_version": row.champion_version,
            "challenger_version": row.compared_challenger_version,
            "mcnemar_p": row.mcnemar_p,
            "champion_metrics": row.champion_metrics,
            "challenger_metrics": row.challenger_metrics,
            "decision": row.decision,
            "naive_decision": row.naive_decision,
            "reasons": row.reasons,
        }
    )


def _run(row: RetrainingRunRow) -> RetrainingRunRecord:
    times = [
        t
        for t in (row.requested_at, row.trained_at, row.compared_at, row.promoted_at, row.failed_at)
        if t is not None
    ]
    challenger = row.challenger_version or row.compared_challenger_version
    return RetrainingRunRecord.model_validate(
        {
            "request_id": row.request_id,
            "status": row.status,
            "reason": row.reason,
            "requested_by": row.requested_by,
            "detail": row.detail,
            "trigger_event_ids": row.trigger_event_ids or (),
            "requested_at": row.requested_at,
            "trained_event_id": row.trained_event_id,
            "trained_at": row.trained_at,
            "challenger_version": challenger,
            "challenger_run_id": row.challenger_run_id,
            "training_rows": row.training_rows,
            "feedback_rows": row.feedback_rows,
            "comparison": _summary(row),
            "promoted_event_id": row.promoted_event_id,
            "promoted_at": row.promoted_at,
            "failed_event_id": row.failed_event_id,
            "failed_at": row.failed_at,
            "failure": row.failure,
            "updated_at": max(times),
        }
    )


def retraining_history(
    session: Session, *, limit: int = 50, status: str | None = None
) -> list[RetrainingRunRecord]:
    """Retraining runs, newest request first."""
    query = select(RetrainingRunRow)
    if status is not None:
        query = query.where(RetrainingRunRow.status == status)
    query = query.order_by(_run_time().desc(), RetrainingRunRow.request_id.desc()).limit(limit)
    return [_run(row) for row in session.scalars(query)]


def retraining_run(session: Session, request_id: uuid.UUID) -> RetrainingRunRecord | None:
    row = session.get(RetrainingRunRow, request_id)
    return _run(row) if row is not None else None


def latest_comparison(
    session: Session, *, model_name: str | None = None
) -> ComparisonRecord | None:
    """The most recent champion/challenger comparison (from a retraining run or not)."""
    query = select(ComparisonRow).order_by(
        ComparisonRow.occurred_at.desc(), ComparisonRow.event_id.desc()
    )
    if model_name is not None:
        query = query.where(ComparisonRow.model_name == model_name)
    row = session.scalars(query.limit(1)).first()
    if row is None:
        return None
    return ComparisonRecord.model_validate(
        {
            "event_id": row.event_id,
            "compared_at": row.occurred_at,
            "champion": {"name": row.model_name, "version": row.champion_version},
            "challenger": {"name": row.model_name, "version": row.challenger_version},
            "champion_metrics": row.champion_metrics,
            "challenger_metrics": row.challenger_metrics,
            "evaluation_sets": row.evaluation_sets,
            "mcnemar": {
                "champion_only_correct": row.champion_only_correct,
                "challenger_only_correct": row.challenger_only_correct,
                "p_value": row.mcnemar_p,
            },
            "decision": row.decision,
            "reasons": row.reasons,
            "naive_decision": row.naive_decision,
            "retrain_request_id": row.retrain_request_id,
        }
    )


def current_aliases(session: Session, model_name: str) -> dict[str, int]:
    """Where each alias of `model_name` points now: the newest move of each alias wins."""
    query = (
        select(AliasChangeRow.alias, AliasChangeRow.to_version)
        .where(AliasChangeRow.model_name == model_name)
        .order_by(AliasChangeRow.event_id)
    )
    return {row.alias: row.to_version for row in session.execute(query)}


def model_versions(
    session: Session, *, model_name: str | None = None, limit: int = 100
) -> list[ModelVersionRecord]:
    """Registered versions, newest first, each with the aliases pointing at it now."""
    query = select(ModelVersionRow)
    if model_name is not None:
        query = query.where(ModelVersionRow.model_name == model_name)
    rows = session.scalars(
        query.order_by(ModelVersionRow.created_at.desc(), ModelVersionRow.version.desc()).limit(
            limit
        )
    ).all()
    aliases = {name: current_aliases(session, name) for name in {r.model_name for r in rows}}
    return [version_record(row, aliases[row.model_name]) for row in rows]


def version_record(row: ModelVersionRow, aliases: dict[str, int]) -> ModelVersionRecord:
    """The record of one registered version; `aliases` are its model's current ones."""
    return ModelVersionRecord.model_validate(
        {
            "model": {"name": row.model_name, "version": row.version},
            "run_id": row.run_id,
            "metrics": row.metrics,
            "training_rows": row.training_rows,
            "feedback_rows": row.feedback_rows,
            "dataset_sha256": row.dataset_sha256,
            "duration_s": row.duration_s,
            "retrain_request_id": row.retrain_request_id,
            "event_id": row.event_id,
            "created_at": row.created_at,
            "aliases": tuple(sorted(a for a, v in aliases.items() if v == row.version)),
        }
    )


def alias_history(
    session: Session,
    *,
    model_name: str | None = None,
    alias: str | None = None,
    limit: int = 100,
) -> list[AliasChangeRecord]:
    """Promotions and rollbacks, newest first."""
    query = select(AliasChangeRow)
    if model_name is not None:
        query = query.where(AliasChangeRow.model_name == model_name)
    if alias is not None:
        query = query.where(AliasChangeRow.alias == alias)
    query = query.order_by(AliasChangeRow.occurred_at.desc(), AliasChangeRow.event_id.desc())
    return [
        AliasChangeRecord.model_validate(row, from_attributes=True)
        for row in session.scalars(query.limit(limit))
    ]
