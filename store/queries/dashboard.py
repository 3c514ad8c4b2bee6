"""Aggregate reads the dashboard needs: traffic per minute, and a prediction's audit trail.

Traffic is counted in SQL (one GROUP BY over the indexed time column), not in Python, so an
hour of heavy traffic costs the API one small result set. Minutes without predictions are
filled with zeros, so a chart shows a gap in traffic as a dip rather than a straight line.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from store.queries.lifecycle import current_aliases, version_record
from store.queries.traffic import prediction
from store.records import AliasChangeRecord, ModelVersionRecord, PredictionRecord
from store.tables import AliasChangeRow, ModelVersionRow, PredictionRow

__all__ = [
    "PredictionAudit",
    "TrafficMinute",
    "TrafficSummary",
    "prediction_audit",
    "traffic_per_minute",
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrafficMinute(_Record):
    """Predictions that occurred in one UTC minute."""

    minute: datetime
    predictions: int
    spam: int
    spam_rate: float | None
    challenger: int
    """Of them, answered by the challenger arm of an A/B test."""
    mean_latency_ms: float | None


class TrafficSummary(_Record):
    """Traffic in [since, until): per minute, oldest first, and in total."""

    since: datetime
    until: datetime
    minutes: tuple[TrafficMinute, ...]
    predictions: int
    spam: int
    spam_rate: float | None
    challenger: int
    mean_latency_ms: float | None


class PredictionAudit(_Record):
    """Which model classified a message, that model's provenance, and why it was serving."""

    prediction: PredictionRecord
    model_version: ModelVersionRecord | None
    """The version as trained (`model.trained`); None if registered outside the system."""
    promotion: AliasChangeRecord | None
    """The newest alias move to that version before the prediction: why it was serving."""


def _minute_of(session: Session) -> ColumnElement[Any]:
    """The UTC minute of `occurred_at`, in the dialect's own idiom (SQLite stores text)."""
    column = PredictionRow.occurred_at
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M", column)
    return func.date_trunc("minute", column)


def _as_minute(value: object) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise TypeError(f"unexpected minute value {value!r}")


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def traffic_per_minute(session: Session, *, since: datetime, until: datetime) -> TrafficSummary:
    """Predictions, spam and challenger counts and mean latency per minute in [since, until)."""
    minute = _minute_of(session)
    p = PredictionRow
    query = (
        select(
            minute.label("minute"),
            func.count().label("n"),
            func.sum(case((p.label == "spam", 1), else_=0)).label("spam"),
            func.sum(case((p.variant == "challenger", 1), else_=0)).label("challenger"),
            func.avg(p.latency_ms).label("latency"),
        )
        .where(p.occurred_at >= since, p.occurred_at < until)
        .group_by(minute)
    )
    found = {_as_minute(row.minute): row for row in session.execute(query)}
    minutes: list[TrafficMinute] = []
    moment, last = _floor(since), _floor(until - timedelta(microseconds=1))
    while moment <= last:
        row = found.get(moment)
        n = int(row.n) if row is not None else 0
        spam = int(row.spam or 0) if row is not None else 0
        minutes.append(
            TrafficMinute(
                minute=moment,
                predictions=n,
                spam=spam,
                spam_rate=_rate(spam, n),
                challenger=int(row.challenger or 0) if row is not None else 0,
                mean_latency_ms=float(row.latency) if row is not None else None,
            )
        )
        moment += timedelta(minutes=1)
    total = sum(m.predictions for m in minutes)
    spam_total = sum(m.spam for m in minutes)
    latency_sum = sum((m.mean_latency_ms or 0.0) * m.predictions for m in minutes)
    return TrafficSummary(
        since=since,
        until=until,
        minutes=tuple(minutes),
        predictions=total,
        spam=spam_total,
        spam_rate=_rate(spam_total, total),
        challenger=sum(m.challenger for m in minutes),
        mean_latency_ms=latency_sum / total if total else None,
    )


def _version(session: Session, name: str, version: int) -> ModelVersionRecord | None:
    row = session.get(ModelVersionRow, (name, version))
    if row is None:
        return None
    return version_record(row, current_aliases(session, name))


def _promotion(session: Session, record: PredictionRecord) -> AliasChangeRecord | None:
    a = AliasChangeRow
    query = (
        select(a)
        .where(
            a.model_name == record.model.name,
            a.to_version == record.model.version,
            a.alias == (record.model.alias or record.variant),
            a.occurred_at <= record.occurred_at,
        )
        .order_by(a.occurred_at.desc(), a.event_id.desc())
        .limit(1)
    )
    row = session.scalars(query).first()
    return AliasChangeRecord.model_validate(row, from_attributes=True) if row else None


def prediction_audit(session: Session, prediction_id: uuid.UUID) -> PredictionAudit | None:
    """The auditor's "which model classified this message, and why was it serving"."""
    record = prediction(session, prediction_id)
    if record is None:
        return None
    return PredictionAudit(
        prediction=record,
        model_version=_version(session, record.model.name, record.model.version),
        promotion=_promotion(session, record),
    )
