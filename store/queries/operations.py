"""Decisions, alerts (with delivery status) and A/B tests."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.records import AbTestRecord, AlertDeliveryRecord, AlertRecord, DecisionRecord
from store.tables import AbTestRow, AlertDeliveryRow, AlertRow, DecisionRow

__all__ = ["abtest", "abtests", "alerts", "decisions"]

AbTestStatus = Literal["running", "concluded", "unknown"]


def decisions(
    session: Session,
    *,
    since: datetime | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[DecisionRecord]:
    """Agent and rule decisions, newest first."""
    query = select(DecisionRow)
    if since is not None:
        query = query.where(DecisionRow.occurred_at >= since)
    if action is not None:
        query = query.where(DecisionRow.action == action)
    query = query.order_by(DecisionRow.occurred_at.desc(), DecisionRow.event_id.desc())
    return [
        DecisionRecord.model_validate(row, from_attributes=True)
        for row in session.scalars(query.limit(limit))
    ]


def _delivery_status(
    deliveries: list[AlertDeliveryRecord],
) -> Literal["pending", "delivered", "failed"]:
    if not deliveries:
        return "pending"
    return "delivered" if any(d.ok for d in deliveries) else "failed"


def alerts(
    session: Session,
    *,
    since: datetime | None = None,
    severity: str | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Alerts, newest first, each with its deliveries (oldest first) and their outcome."""
    query = select(AlertRow)
    if since is not None:
        query = query.where(AlertRow.occurred_at >= since)
    if severity is not None:
        query = query.where(AlertRow.severity == severity)
    query = query.order_by(AlertRow.occurred_at.desc(), AlertRow.event_id.desc()).limit(limit)
    rows = session.scalars(query).all()
    by_alert: dict[uuid.UUID, list[AlertDeliveryRecord]] = defaultdict(list)
    if rows:
        found = session.scalars(
            select(AlertDeliveryRow)
            .where(AlertDeliveryRow.alert_id.in_([r.event_id for r in rows]))
            .order_by(AlertDeliveryRow.occurred_at, AlertDeliveryRow.event_id)
        )
        for d in found:
            by_alert[d.alert_id].append(AlertDeliveryRecord.model_validate(d, from_attributes=True))
    out = []
    for row in rows:
        deliveries = by_alert.get(row.event_id, [])
        record = AlertRecord.model_validate(
            {
                "event_id": row.event_id,
                "occurred_at": row.occurred_at,
                "source": row.source,
                "severity": row.severity,
                "title": row.title,
                "body": row.body,
                "dedupe_key": row.dedupe_key,
                "source_event_id": row.source_event_id,
                "labels": row.labels,
                "deliveries": deliveries,
                "delivery_status": _delivery_status(deliveries),
            }
        )
        out.append(record)
    return out


def _abtest(row: AbTestRow) -> AbTestRecord:
    start = None
    if row.started_event_id is not None:
        start = {
            "abtest_id": row.abtest_id,
            "champion": {"name": row.model_name, "version": row.champion_version},
            "challenger": {"name": row.model_name, "version": row.challenger_version},
            "mode": row.mode,
            "split": row.split,
            "routing_key": row.routing_key,
            "min_samples": row.min_samples,
            "min_effect": row.min_effect,
            "alpha": row.alpha,
            "max_duration_s": row.max_duration_s,
            "started_by": row.started_by,
        }
    latest = None
    if row.updated_event_id is not None:
        latest = {
            "abtest_id": row.abtest_id,
            "arms": row.arms,
            "p_value": row.p_value,
            "planned_samples": row.planned_samples,
        }
    conclusion = None
    if row.concluded_event_id is not None:
        conclusion = {
            "abtest_id": row.abtest_id,
            "winner": row.winner,
            "reason": row.conclusion_reason,
            "effect": row.effect,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "p_value": row.final_p_value,
            "arms": row.final_arms,
        }
    status: AbTestStatus = (
        "concluded" if conclusion is not None else "running" if start is not None else "unknown"
    )
    return AbTestRecord.model_validate(
        {
            "abtest_id": row.abtest_id,
            "status": status,
            "start": start,
            "started_at": row.started_at,
            "latest": latest,
            "updated_at": row.updated_at,
            "conclusion": conclusion,
            "concluded_at": row.concluded_at,
        }
    )


def abtests(
    session: Session, *, status: AbTestStatus | None = None, limit: int = 50
) -> list[AbTestRecord]:
    """A/B tests, newest first; `status` filters running / concluded ones."""
    query = select(AbTestRow)
    if status == "concluded":
        query = query.where(AbTestRow.concluded_event_id.is_not(None))
    elif status == "running":
        query = query.where(
            AbTestRow.concluded_event_id.is_(None), AbTestRow.started_event_id.is_not(None)
        )
    elif status == "unknown":
        query = query.where(
            AbTestRow.concluded_event_id.is_(None), AbTestRow.started_event_id.is_(None)
        )
    newest = func.coalesce(AbTestRow.started_at, AbTestRow.updated_at, AbTestRow.concluded_at)
    query = query.order_by(newest.desc(), AbTestRow.abtest_id.desc()).limit(limit)
    return [_abtest(row) for row in session.scalars(query)]


def abtest(session: Session, abtest_id: uuid.UUID) -> AbTestRecord | None:
    row = session.get(AbTestRow, abtest_id)
    return _abtest(row) if row is not None else None
