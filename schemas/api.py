"""Request and response bodies of the HTTP API (documented in its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import ClassificationMetrics, Label, ModelRef, Variant
from schemas.decisions import RetrainReason

__all__ = [
    "AbTestAccepted",
    "AbTestRequest",
    "BatchItem",
    "BatchPredictRequest",
    "BatchPredictResponse",
    "EventOut",
    "EventPage",
    "FeedbackAccepted",
    "FeedbackRequest",
    "ModelAction",
    "ModelVersionOut",
    "PredictRequest",
    "PredictResponse",
    "Problem",
    "ReadyOut",
    "RetrainAccepted",
    "RetrainRequestIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PredictRequest(_In):
    message: str = Field(description="The SMS text (1 to 5,000 characters by default).")
    client_id: str | None = Field(default=None, max_length=200, description="Sticky A/B key.")
    request_id: str | None = Field(default=None, max_length=200)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "message": "WINNER!! Claim your £1000 prize now: call 09061701461",
                    "client_id": "gateway-7",
                    "request_id": "req-123",
                },
            ]
        },
    )


class PredictResponse(BaseModel):
    prediction_id: UUID
    label: Label
    spam_probability: float = Field(ge=0, le=1)
    model: ModelRef
    variant: Variant
    latency_ms: float = Field(ge=0, description="Time spent in the service, in milliseconds.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "prediction_id": "01938f5e-7c1a-7cc3-9a5e-3f0d5b8e1a42",
                    "label": "spam",
                    "spam_probability": 0.998,
                    "model": {"name": "spam-classifier", "version": 3, "alias": "champion"},
                    "variant": "champion",
                    "latency_ms": 0.21,
                },
            ]
        }
    )


class BatchItem(_In):
    message: str
    client_id: str | None = Field(default=None, max_length=200)
    request_id: str | None = Field(default=None, max_length=200)


class BatchPredictRequest(_In):
    messages: list[BatchItem] = Field(description="Up to 1,000 messages by default.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"message": "See you at 7?"},
                        {"message": "Free entry to win a car, txt WIN"},
                    ]
                }
            ]
        },
    )


class BatchPredictResponse(BaseModel):
    predictions: list[PredictResponse]


class FeedbackRequest(_In):
    prediction_id: UUID
    label: Label

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"prediction_id": "01938f5e-7c1a-7cc3-9a5e-3f0d5b8e1a42", "label": "ham"}]
        },
    )


class FeedbackAccepted(BaseModel):
    event_id: UUID
    prediction_id: UUID
    label: Label


class ModelVersionOut(BaseModel):
    name: str
    version: int
    aliases: list[str]
    created_at: datetime | None = None
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class ModelAction(BaseModel):
    """The result of a promotion or rollback; the event makes every replica reload."""

    event_id: UUID
    action: Literal["promoted", "rolled_back"]
    version: int
    previous_version: int | None


class RetrainRequestIn(_In):
    reason: RetrainReason = "manual"
    detail: str = Field(default="", max_length=2000)


class RetrainAccepted(BaseModel):
    request_id: UUID


class EventOut(BaseModel):
    entry_id: str
    event: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AbTestRequest(_In):
    """Unset figures take the deployment's defaults (SPAMOPS_ABTEST__*)."""

    challenger_version: int = Field(ge=1, le=2**31 - 1)
    split: float | None = Field(default=None, gt=0, lt=1, description="Share to the challenger.")
    routing_key: Literal["client_id", "request_id"] = "client_id"
    mode: Literal["split", "shadow"] = "split"
    min_samples: int | None = Field(
        default=None, ge=1, le=10_000_000, description="Labelled samples per arm before concluding."
    )
    min_effect: float | None = Field(default=None, gt=0, lt=1)
    alpha: float | None = Field(default=None, gt=0, lt=0.5)
    max_duration_s: int | None = Field(default=None, ge=60, le=365 * 24 * 3600)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"challenger_version": 4, "split": 0.2, "routing_key": "client_id"}]
        },
    )


class AbTestAccepted(BaseModel):
    abtest_id: UUID
    event_id: UUID


class ReadyOut(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    model: ModelRef | None
    model_source: Literal["registry", "cache", "none"]
    bus: Literal["connected", "spooling"]
    queued_events: int
    spooled_events: int
    dropped_events: int


class Problem(BaseModel):
    """Every error: what went wrong, in words a person can act on."""

    error: str
    detail: list[dict[str, Any]] | None = None


class ClassificationSummary(BaseModel):
    metrics: ClassificationMetrics
