"""Value types shared by several event payloads and API models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ClassificationMetrics",
    "Label",
    "ModelAlias",
    "ModelRef",
    "Severity",
    "Variant",
]

Label = Literal["spam", "ham"]
ModelAlias = Literal["champion", "challenger"]
Variant = Literal["champion", "challenger"]
Severity = Literal["info", "warning", "critical"]

Probability = float


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelRef(_Frozen):
    """Which registered model version produced or is meant by something."""

    name: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    alias: ModelAlias | None = None


class ClassificationMetrics(_Frozen):
    """Metrics that stay honest on an 87% ham corpus (accuracy alone does not)."""

    n: int = Field(ge=0)
    accuracy: float = Field(ge=0, le=1)
    spam_precision: float = Field(ge=0, le=1)
    spam_recall: float = Field(ge=0, le=1)
    spam_f1: float = Field(ge=0, le=1)
    ham_fpr: float = Field(ge=0, le=1, description="Share of ham classified as spam.")
    mcc: float = Field(ge=-1, le=1)
    roc_auc: float | None = Field(default=None, ge=0, le=1)
    pr_auc: float | None = Field(default=None, ge=0, le=1)
