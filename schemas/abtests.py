"""Payloads of the `abtests` stream."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.common import ModelRef, Variant
from schemas.envelope import Payload

__all__ = ["AbTestConclusion", "AbTestStart", "AbTestUpdate", "ArmStats"]


class AbTestStart(Payload):
    abtest_id: UUID
    champion: ModelRef
    challenger: ModelRef
    mode: Literal["split", "shadow"] = "split"
    split: float = Field(default=0.2, gt=0, lt=1, description="Share of traffic to challenger.")
    routing_key: Literal["client_id", "request_id"] = "client_id"
    min_samples: int = Field(
        default=1000,
        ge=1,
        description="Labelled samples each arm needs before the test may conclude.",
    )
    min_effect: float = Field(default=0.01, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    max_duration_s: int = Field(default=7 * 24 * 3600, ge=1)
    started_by: str = Field(min_length=1, max_length=200)


class ArmStats(Payload):
    variant: Variant
    model_version: int = Field(ge=1)
    n: int = Field(ge=0)
    errors: int = Field(ge=0)
    error_rate: float = Field(ge=0, le=1)
    spam_recall: float | None = Field(default=None, ge=0, le=1)
    ham_fpr: float | None = Field(default=None, ge=0, le=1)
    latency_p50_ms: float | None = Field(default=None, ge=0)
    latency_p95_ms: float | None = Field(default=None, ge=0)
    predictions: int | None = Field(
        default=None, ge=0, description="Predictions this arm made (labelled or not)."
    )


class AbTestUpdate(Payload):
    abtest_id: UUID
    arms: tuple[ArmStats, ...]
    p_value: float = Field(ge=0, le=1, description="Always-valid p-value of the sequential test.")
    planned_samples: int = Field(ge=0)
    effect: float | None = Field(
        default=None, description="Challenger error rate minus champion error rate."
    )
    ci_low: float | None = Field(default=None, description="Always-valid interval of effect.")
    ci_high: float | None = None


class AbTestConclusion(Payload):
    abtest_id: UUID
    winner: Literal["champion", "challenger", "none"]
    reason: Literal["significant", "max_duration", "stopped", "futility"]
    effect: float = Field(description="Challenger error rate minus champion error rate.")
    ci_low: float
    ci_high: float
    p_value: float = Field(ge=0, le=1)
    arms: tuple[ArmStats, ...]
    planned_samples: int | None = Field(default=None, ge=0)
