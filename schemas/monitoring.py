"""Payloads of the `drift` stream: drift and performance measurements per window."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from schemas.common import ClassificationMetrics, ModelRef
from schemas.envelope import Payload

__all__ = ["DriftMeasurement", "DriftStatistic", "DriftToken", "PerformanceMeasurement"]


class DriftStatistic(Payload):
    """One statistic of a window, with the threshold calibrated on reference data."""

    name: str = Field(min_length=1, max_length=100)
    value: float
    threshold: float
    drifted: bool
    p_value: float | None = Field(default=None, ge=0, le=1)


class DriftToken(Payload):
    """A token whose share moved between the reference and the window."""

    token: str = Field(max_length=200)
    reference_share: float = Field(ge=0, le=1)
    window_share: float = Field(ge=0, le=1)
    weight: float = Field(description="How strongly it separates window from reference.")


class DriftMeasurement(Payload):
    """Drift of one window of predictions against the serving model's reference profile."""

    window_id: UUID
    model: ModelRef
    n: int = Field(ge=1)
    started_at: datetime
    ended_at: datetime
    statistics: tuple[DriftStatistic, ...]
    score: float = Field(ge=0, le=1, description="0 = like the reference, 1 = certainly drifted.")
    drifted: bool
    top_tokens: tuple[DriftToken, ...] = ()
    examples: tuple[str, ...] = Field(
        default=(), description="Window messages most unlike the reference (empty if redacted)."
    )


class PerformanceMeasurement(Payload):
    """Quality on labelled predictions of one window for one model version."""

    window_id: UUID
    model: ModelRef
    started_at: datetime
    ended_at: datetime
    metrics: ClassificationMetrics
