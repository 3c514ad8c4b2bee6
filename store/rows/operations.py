"""Rows of decisions, A/B tests and alerts (an alert may also mark a retraining failed)."""

from __future__ import annotations

import uuid

from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    AbTestUpdated,
    AlertDelivered,
    AlertRaised,
    DecisionMade,
)
from store.targets import Write, run_write, write

__all__ = [
    "FAILED_RUN_LABEL",
    "abtest_concluded_rows",
    "abtest_started_rows",
    "abtest_updated_rows",
    "alert_rows",
    "decision_rows",
    "delivery_rows",
]

FAILED_RUN_LABEL = "retrain_request_id"
"""An `alert.raised` with this label (a request id) marks that retraining run failed."""

_STARTED_FIELDS = {
    "mode",
    "split",
    "routing_key",
    "min_samples",
    "min_effect",
    "alpha",
    "max_duration_s",
    "started_by",
}


def decision_rows(e: DecisionMade) -> list[Write]:
    p = e.payload
    row = {
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "source": e.source,
        **p.model_dump(exclude={"input_event_ids"}),
        "input_event_ids": [str(i) for i in p.input_event_ids],
    }
    return [write("decisions", row)]


def abtest_started_rows(e: AbTestStarted) -> list[Write]:
    p = e.payload
    row = {
        "abtest_id": p.abtest_id,
        "started_event_id": e.id,
        "started_at": e.occurred_at,
        "model_name": p.champion.name,
        "champion_version": p.champion.version,
        "challenger_version": p.challenger.version,
        **p.model_dump(include=_STARTED_FIELDS),
    }
    return [write("abtests.started", row)]


def abtest_updated_rows(e: AbTestUpdated) -> list[Write]:
    p = e.payload
    row = {
        "abtest_id": p.abtest_id,
        "updated_event_id": e.id,
        "updated_at": e.occurred_at,
        "arms": [a.model_dump(mode="json") for a in p.arms],
        "p_value": p.p_value,
        "planned_samples": p.planned_samples,
    }
    return [write("abtests.updated", row)]


def abtest_concluded_rows(e: AbTestConcluded) -> list[Write]:
    p = e.payload
    row = {
        "abtest_id": p.abtest_id,
        "concluded_event_id": e.id,
        "concluded_at": e.occurred_at,
        "winner": p.winner,
        "conclusion_reason": p.reason,
        "effect": p.effect,
        "ci_low": p.ci_low,
        "ci_high": p.ci_high,
        "final_p_value": p.p_value,
        "final_arms": [a.model_dump(mode="json") for a in p.arms],
    }
    return [write("abtests.concluded", row)]


def alert_rows(e: AlertRaised) -> list[Write]:
    p = e.payload
    row = {
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "source": e.source,
        "severity": p.severity,
        "title": p.title,
        "body": p.body,
        "dedupe_key": p.dedupe_key,
        "source_event_id": p.source_event_id,
        "labels": dict(p.labels),
    }
    writes = [write("alerts", row)]
    try:
        request_id = uuid.UUID(p.labels[FAILED_RUN_LABEL])
    except (KeyError, ValueError):
        return writes
    failure = f"{p.title}: {p.body}" if p.body else p.title
    run = {"failed_event_id": e.id, "failed_at": e.occurred_at, "failure": failure}
    writes.append(run_write("runs.failed", request_id, run))
    return writes


def delivery_rows(e: AlertDelivered) -> list[Write]:
    p = e.payload
    row = {
        "event_id": e.id,
        "alert_id": p.alert_id,
        "occurred_at": e.occurred_at,
        "channel": p.channel,
        "ok": p.ok,
        "attempts": p.attempts,
        "latency_ms": p.latency_ms,
        "error": p.error,
    }
    return [write("alert_deliveries", row)]
