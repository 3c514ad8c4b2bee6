"""Payloads of the `models` stream: training, comparison, promotion and rollback."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.common import ClassificationMetrics, ModelRef
from schemas.envelope import Payload

__all__ = [
    "EvaluationSet",
    "McNemarResult",
    "ModelComparison",
    "Promotion",
    "Rollback",
    "TrainedModel",
]


class TrainedModel(Payload):
    """A newly registered model version and how it was made."""

    model: ModelRef
    run_id: str = Field(min_length=1)
    metrics: ClassificationMetrics
    training_rows: int = Field(ge=1)
    feedback_rows: int = Field(default=0, ge=0)
    dataset_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    duration_s: float = Field(ge=0)
    retrain_request_id: UUID | None = None


class EvaluationSet(Payload):
    name: str
    n: int = Field(ge=0)


class McNemarResult(Payload):
    """McNemar's exact test on paired errors of two models on the same messages."""

    champion_only_correct: int = Field(ge=0, description="b: champion right, challenger wrong.")
    challenger_only_correct: int = Field(ge=0, description="c: challenger right, champion wrong.")
    p_value: float = Field(ge=0, le=1)


class ModelComparison(Payload):
    """Champion and challenger scored on the same evaluation sets, and the verdict."""

    champion: ModelRef
    challenger: ModelRef
    champion_metrics: ClassificationMetrics
    challenger_metrics: ClassificationMetrics
    evaluation_sets: tuple[EvaluationSet, ...]
    mcnemar: McNemarResult
    decision: Literal["promote", "keep"]
    reasons: tuple[str, ...]
    naive_decision: Literal["promote", "keep"] = Field(
        description="The seed's rule, kept for comparison: promote if accuracy improves > 1%."
    )
    retrain_request_id: UUID | None = None


class Promotion(Payload):
    """An alias moved to a version (a model starts serving, or becomes the challenger)."""

    model_name: str
    version: int = Field(ge=1)
    alias: Literal["champion", "challenger"] = "champion"
    previous_version: int | None = Field(default=None, ge=1)
    reason: str = Field(max_length=2000)
    actor: str = Field(min_length=1, max_length=200)
    comparison_event_id: UUID | None = None


class Rollback(Payload):
    """`champion` moved back to an earlier version."""

    model_name: str
    from_version: int = Field(ge=1)
    to_version: int = Field(ge=1)
    reason: str = Field(max_length=2000)
    actor: str = Field(min_length=1, max_length=200)
