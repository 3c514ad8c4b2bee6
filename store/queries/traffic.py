"""Predictions and their labels: the audit's explain, and the retrainer's labelled data."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from store.records import LabelledMessage, PredictionRecord
from store.tables import FeedbackRow, PredictionRow

__all__ = ["labelled_messages", "prediction", "predictions_of_text"]


def _record(p: PredictionRow, f: FeedbackRow | None) -> PredictionRecord:
    return PredictionRecord.model_validate(
        {
            "prediction_id": p.prediction_id,
            "event_id": p.event_id,
            "occurred_at": p.occurred_at,
            "request_id": p.request_id,
            "client_id": p.client_id,
            "text": p.text,
            "text_sha256": p.text_sha256,
            "label": p.label,
            "spam_probability": p.spam_probability,
            "model": {"name": p.model_name, "version": p.model_version, "alias": p.model_alias},
            "variant": p.variant,
            "abtest_id": p.abtest_id,
            "latency_ms": p.latency_ms,
            "feedback_label": f.label if f is not None else None,
            "feedback_at": f.occurred_at if f is not None else None,
            "feedback_event_id": f.event_id if f is not None else None,
        }
    )


def _with_feedback() -> Select[PredictionRow, FeedbackRow]:
    return select(PredictionRow, FeedbackRow).outerjoin(
        FeedbackRow, FeedbackRow.prediction_id == PredictionRow.prediction_id
    )


def prediction(session: Session, prediction_id: uuid.UUID) -> PredictionRecord | None:
    """Which model classified this message, with what score, and the label it got later."""
    query = _with_feedback().where(PredictionRow.prediction_id == prediction_id)
    found = session.execute(query).first()
    if found is None:
        return None
    p, f = found
    return _record(p, f)


def predictions_of_text(
    session: Session, text_sha256: str, *, limit: int = 100
) -> list[PredictionRecord]:
    """Every classification of one message text (by SHA-256, so redacted ones too), newest
    first: the auditor's "which model classified this message"."""
    query = (
        _with_feedback()
        .where(PredictionRow.text_sha256 == text_sha256)
        .order_by(PredictionRow.occurred_at.desc(), PredictionRow.event_id.desc())
        .limit(limit)
    )
    return [_record(p, f) for p, f in session.execute(query)]


def labelled_messages(
    session: Session, since: datetime | None = None, limit: int | None = None
) -> list[LabelledMessage]:
    """Labelled production messages, one per distinct text (by SHA-256): extra training data.

    The text is the prediction's, else the one the feedback brought (imports of redacted
    traffic); feedback whose text is unknown is left out. When one text was labelled more
    than once, the newest label wins. `since` keeps labels given from then on; `limit`
    keeps the newest that many. Returned oldest first.
    """
    text = func.coalesce(PredictionRow.text, FeedbackRow.text)
    digest = func.coalesce(PredictionRow.text_sha256, FeedbackRow.text_sha256)
    newest_first = func.row_number().over(partition_by=digest, order_by=FeedbackRow.event_id.desc())
    ranked = (
        select(
            text.label("text"),
            FeedbackRow.label,
            FeedbackRow.occurred_at.label("labelled_at"),
            FeedbackRow.event_id,
            newest_first.label("rank"),
        )
        .select_from(FeedbackRow)
        .outerjoin(PredictionRow, PredictionRow.prediction_id == FeedbackRow.prediction_id)
        .where(text.is_not(None))
    )
    if since is not None:
        ranked = ranked.where(FeedbackRow.occurred_at >= since)
    sub = ranked.subquery()
    query = (
        select(sub.c.text, sub.c.label, sub.c.labelled_at)
        .where(sub.c.rank == 1)
        .order_by(sub.c.event_id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return [LabelledMessage(r.text, r.label, r.labelled_at) for r in reversed(rows)]
