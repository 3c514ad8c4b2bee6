"""What the store's queries return: frozen pydantic models, never ORM rows.

Where a row is one event, its record is that event's payload class extended with the
event id and time, so the API serves the same shapes as the bus carries. Rows assembled
from several events (retraining runs, A/B tests) have records of their own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from schemas.abtests import AbTestConclusion, AbTestStart, AbTestUpdate
from schemas.common import ClassificationMetrics, Label, ModelRef, Variant
from schemas.decisions import Decision, RetrainReason
from schemas.models import ModelComparison, TrainedModel
from schemas.monitoring import DriftMeasurement, PerformanceMeasurement
from schemas.operations import Alert, AlertDelivery

__all__ = [
    "AbTestRecord",
    "AlertDeliveryRecord",
    "AlertRecord",
    "AliasChangeRecord",
    "ComparisonRecord",
    "ComparisonSummary",
    "DecisionRecord",
    "DriftWindowRecord",
    "LabelledMessage",
    "ModelVersionRecord",
    "PerformanceWindowRecord",
    "PredictionRecord",
    "RetrainingRunRecord",
    "RunStatusName",
]

RunStatusName = Literal["requested", "trained", "failed", "compared", "kept", "promoted"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabelledMessage(NamedTuple):
    """A production message with its ground-truth label: extra training data."""

    text: str
    label: Label
    labelled_at: datetime


class PredictionRecord(_Record):
    """Which model classified a message, how, and the label it later got (audit explain)."""

    prediction_id: uuid.UUID
    event_id: uuid.UUID
    occurred_at: datetime
    request_id: str | None
    client_id: str | None
    text: str | None
    text_sha256: str
    label: Label
    spam_probability: float
    model: ModelRef
    variant: Variant
    abtest_id: uuid.UUID | None
    latency_ms: float
    feedback_label: Label | None = None
    feedback_at: datetime | None = None
    feedback_event_id: uuid.UUID | None = None


class DriftWindowRecord(DriftMeasurement):
    event_id: uuid.UUID
    measured_at: datetime


class PerformanceWindowRecord(PerformanceMeasurement):
    event_id: uuid.UUID
    measured_at: datetime


class ComparisonRecord(ModelComparison):
    event_id: uuid.UUID
    compared_at: datetime


class ComparisonSummary(_Record):
    """A retraining run's comparison: McNemar's p, both metric sets, both decisions."""

    event_id: uuid.UUID
    compared_at: datetime
    champion_version: int
    challenger_version: int
    mcnemar_p: float
    champion_metrics: ClassificationMetrics
    challenger_metrics: ClassificationMetrics
    decision: Literal["promote", "keep"]
    naive_decision: Literal["promote", "keep"]
    reasons: tuple[str, ...]


class RetrainingRunRecord(_Record):
    """One retraining request and how far it got; `updated_at` is its latest event."""

    request_id: uuid.UUID
    status: RunStatusName
    reason: RetrainReason | None
    requested_by: str | None
    detail: str | None
    trigger_event_ids: tuple[uuid.UUID, ...]
    requested_at: datetime | None
    trained_event_id: uuid.UUID | None
    trained_at: datetime | None
    challenger_version: int | None
    challenger_run_id: str | None
    training_rows: int | None
    feedback_rows: int | None
    comparison: ComparisonSummary | None
    promoted_event_id: uuid.UUID | None
    promoted_at: datetime | None
    failed_event_id: uuid.UUID | None
    failed_at: datetime | None
    failure: str | None
    updated_at: datetime


class ModelVersionRecord(TrainedModel):
    event_id: uuid.UUID
    created_at: datetime
    aliases: tuple[str, ...] = ()
    """Aliases pointing at this version now (from the alias history)."""


class AliasChangeRecord(_Record):
    """One alias move: a promotion or a rollback."""

    event_id: uuid.UUID
    occurred_at: datetime
    kind: Literal["promoted", "rolled_back"]
    model_name: str
    alias: Literal["champion", "challenger"]
    from_version: int | None
    to_version: int
    actor: str
    reason: str
    comparison_event_id: uuid.UUID | None


class DecisionRecord(Decision):
    event_id: uuid.UUID
    occurred_at: datetime
    source: str


class AlertDeliveryRecord(AlertDelivery):
    event_id: uuid.UUID
    occurred_at: datetime


class AlertRecord(Alert):
    """An alert and its deliveries: delivered once any channel succeeded."""

    event_id: uuid.UUID
    occurred_at: datetime
    source: str
    deliveries: tuple[AlertDeliveryRecord, ...] = ()
    delivery_status: Literal["pending", "delivered", "failed"] = "pending"


class AbTestRecord(_Record):
    """An A/B test as its start, latest update and conclusion (each None until seen)."""

    abtest_id: uuid.UUID
    status: Literal["running", "concluded", "unknown"]
    start: AbTestStart | None
    started_at: datetime | None
    latest: AbTestUpdate | None
    updated_at: datetime | None
    conclusion: AbTestConclusion | None
    concluded_at: datetime | None
