"""Drift and performance windows, as the API and dashboard read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.records import DriftWindowRecord, PerformanceWindowRecord
from store.tables import DriftWindowRow, PerformanceWindowRow

__all__ = ["drift_windows", "latest_drift_window", "performance_windows"]


def _drift(row: DriftWindowRow) -> DriftWindowRecord:
    return DriftWindowRecord.model_validate(
        {
            "window_id": row.window_id,
            "event_id": row.event_id,
            "measured_at": row.measured_at,
            "model": {"name": row.model_name, "version": row.model_version},
            "n": row.n,
            "started_at": row.started_at,
            "ended_at": row.ended_at,
            "statistics": row.statistics,
            "score": row.score,
            "drifted": row.drifted,
            "top_tokens": row.top_tokens,
            "examples": row.examples,
        }
    )


def _performance(row: PerformanceWindowRow) -> PerformanceWindowRecord:
    metrics = {
        name: getattr(row, name)
        for name in (
            "n",
            "accuracy",
            "spam_precision",
            "spam_recall",
            "spam_f1",
            "ham_fpr",
            "mcc",
            "roc_auc",
            "pr_auc",
        )
    }
    return PerformanceWindowRecord.model_validate(
        {
            "window_id": row.window_id,
            "event_id": row.event_id,
            "measured_at": row.measured_at,
            "model": {"name": row.model_name, "version": row.model_version},
            "started_at": row.started_at,
            "ended_at": row.ended_at,
            "metrics": metrics,
        }
    )


def latest_drift_window(
    session: Session, *, model_version: int | None = None
) -> DriftWindowRecord | None:
    """The most recently ended drift window (of one model version, if given)."""
    query = select(DriftWindowRow).order_by(
        DriftWindowRow.ended_at.desc(), DriftWindowRow.event_id.desc()
    )
    if model_version is not None:
        query = query.where(DriftWindowRow.model_version == model_version)
    row = session.scalars(query.limit(1)).first()
    return _drift(row) if row is not None else None


def drift_windows(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: int | None = None,
    limit: int = 500,
) -> list[DriftWindowRecord]:
    """Windows that ended in [since, until]: the newest `limit`, returned oldest first."""
    query = select(DriftWindowRow)
    if since is not None:
        query = query.where(DriftWindowRow.ended_at >= since)
    if until is not None:
        query = query.where(DriftWindowRow.ended_at <= until)
    if model_version is not None:
        query = query.where(DriftWindowRow.model_version == model_version)
    query = query.order_by(DriftWindowRow.ended_at.desc(), DriftWindowRow.event_id.desc())
    rows = session.scalars(query.limit(limit)).all()
    return [_drift(row) for row in reversed(rows)]


def performance_windows(
    session: Session,
    *,
    model_version: int | None = None,
    since: datetime | None = None,
    model_name: str | None = None,
    limit: int = 500,
) -> list[PerformanceWindowRecord]:
    """Performance windows ended since `since`: the newest `limit`, returned oldest first."""
    query = select(PerformanceWindowRow)
    if since is not None:
        query = query.where(PerformanceWindowRow.ended_at >= since)
    if model_version is not None:
        query = query.where(PerformanceWindowRow.model_version == model_version)
    if model_name is not None:
        query = query.where(PerformanceWindowRow.model_name == model_name)
    query = query.order_by(
        PerformanceWindowRow.ended_at.desc(), PerformanceWindowRow.event_id.desc()
    )
    rows = session.scalars(query.limit(limit)).all()
    return [_performance(row) for row in reversed(rows)]
