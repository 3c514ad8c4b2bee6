"""Projections of the `drift` stream: one row per measured window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["DriftWindowRow", "PerformanceWindowRow"]


class DriftWindowRow(Base):
    """One `drift.measured`: every statistic with its threshold, the score and verdict.

    Statistics, top tokens and example messages are JSON lists in the event's own shape
    (`schemas.monitoring`), so a new statistic needs no migration.
    """

    __tablename__ = "drift_windows"

    window_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    measured_at: Mapped[datetime]
    model_name: Mapped[str]
    model_version: Mapped[int] = mapped_column(index=True)
    n: Mapped[int]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(index=True)
    score: Mapped[float]
    drifted: Mapped[bool]
    statistics: Mapped[list[Any]]
    top_tokens: Mapped[list[Any]]
    examples: Mapped[list[Any]]


class PerformanceWindowRow(Base):
    """One `performance.measured`: quality of one model version on one labelled window."""

    __tablename__ = "performance_windows"

    window_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(primary_key=True)
    model_version: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    measured_at: Mapped[datetime]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(index=True)
    n: Mapped[int]
    accuracy: Mapped[float]
    spam_precision: Mapped[float]
    spam_recall: Mapped[float]
    spam_f1: Mapped[float]
    ham_fpr: Mapped[float]
    mcc: Mapped[float]
    roc_auc: Mapped[float | None]
    pr_auc: Mapped[float | None]
