"""Projections of the `predictions` and `feedback` streams.

`predictions` answers "which model classified this message, and how" (the audit's
explain) and gives feedback its text; `feedback` keeps one ground-truth label per
prediction. Together they are the retrainer's labelled production messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["FeedbackRow", "PredictionRow"]


class PredictionRow(Base):
    """One `prediction.made`. `text` is NULL when the API ran with redacted events."""

    __tablename__ = "predictions"

    prediction_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    request_id: Mapped[str | None]
    client_id: Mapped[str | None]
    text: Mapped[str | None] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(8))
    spam_probability: Mapped[float]
    model_name: Mapped[str]
    model_version: Mapped[int]
    model_alias: Mapped[str | None] = mapped_column(String(16))
    variant: Mapped[str] = mapped_column(String(16))
    abtest_id: Mapped[uuid.UUID | None]
    latency_ms: Mapped[float]


class FeedbackRow(Base):
    """The label of one prediction: the newest `feedback.received` (by event id) wins.

    A later label for the same prediction is a correction, so it replaces the earlier one;
    event ids are UUIDv7, so "newest" does not depend on the order events arrive in.
    """

    __tablename__ = "feedback"

    prediction_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    label: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    text_sha256: Mapped[str | None] = mapped_column(String(64))
