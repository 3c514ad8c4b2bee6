"""Rows of `prediction.made`, `feedback.received`, `drift.measured`, `performance.measured`."""

from __future__ import annotations

import hashlib

from schemas.events import DriftMeasured, FeedbackReceived, PerformanceMeasured, PredictionMade
from store.targets import Write, write

__all__ = ["clean_text", "drift_rows", "feedback_rows", "performance_rows", "prediction_rows"]


def clean_text(text: str | None) -> str | None:
    """User text without NUL characters, which PostgreSQL cannot store (same on SQLite)."""
    return text.replace("\x00", "\ufffd") if text is not None and "\x00" in text else text


_METRICS = {"n", "accuracy", "spam_precision", "spam_recall", "spam_f1", "ham_fpr", "mcc"}
_OPTIONAL_METRICS = {"roc_auc", "pr_auc"}


def prediction_rows(e: PredictionMade) -> list[Write]:
    p = e.payload
    row = {
        "prediction_id": p.prediction_id,
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "request_id": p.request_id,
        "client_id": p.client_id,
        "text": clean_text(p.text),
        "text_sha256": p.text_sha256,
        "label": p.label,
        "spam_probability": p.spam_probability,
        "model_name": p.model.name,
        "model_version": p.model.version,
        "model_alias": p.model.alias,
        "variant": p.variant,
        "abtest_id": p.abtest_id,
        "latency_ms": p.latency_ms,
    }
    return [write("predictions", row)]


def feedback_rows(e: FeedbackReceived) -> list[Write]:
    p = e.payload
    digest = hashlib.sha256(p.text.encode()).hexdigest() if p.text is not None else None
    row = {
        "prediction_id": p.prediction_id,
        "event_id": e.id,
        "occurred_at": e.occurred_at,
        "label": p.label,
        "source": p.source,
        "text": clean_text(p.text),
        "text_sha256": digest,
    }
    return [write("feedback", row)]


def drift_rows(e: DriftMeasured) -> list[Write]:
    p = e.payload
    row = {
        "window_id": p.window_id,
        "event_id": e.id,
        "measured_at": e.occurred_at,
        "model_name": p.model.name,
        "model_version": p.model.version,
        "n": p.n,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        "score": p.score,
        "drifted": p.drifted,
        "statistics": [s.model_dump(mode="json") for s in p.statistics],
        "top_tokens": [t.model_dump(mode="json") for t in p.top_tokens],
        "examples": list(p.examples),
    }
    return [write("drift_windows", row)]


def performance_rows(e: PerformanceMeasured) -> list[Write]:
    p = e.payload
    row = {
        "window_id": p.window_id,
        "model_name": p.model.name,
        "model_version": p.model.version,
        "event_id": e.id,
        "measured_at": e.occurred_at,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        **p.metrics.model_dump(include=_METRICS | _OPTIONAL_METRICS),
    }
    return [write("performance_windows", row)]
