"""Payloads of the `predictions` and `feedback` streams."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.common import Label, ModelRef, Variant
from schemas.envelope import Payload

__all__ = ["Feedback", "MessageShape", "Prediction", "ShadowScore"]


class MessageShape(Payload):
    """Text-free shape statistics of a message, enough for shape drift even when redacted."""

    length: int = Field(ge=0)
    tokens: int = Field(ge=0)
    digits: int = Field(ge=0)
    urls: int = Field(ge=0)
    uppercase_ratio: float = Field(ge=0, le=1)


class ShadowScore(Payload):
    """A challenger's score of champion traffic, computed off the response path."""

    model: ModelRef
    spam_probability: float = Field(ge=0, le=1)
    label: Label
    latency_ms: float = Field(ge=0)


class Prediction(Payload):
    """One classified message. `text` is present only with `SPAMOPS_EVENT_TEXT=full`."""

    prediction_id: UUID
    request_id: str | None = Field(default=None, max_length=200)
    client_id: str | None = Field(default=None, max_length=200)
    text: str | None = None
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    token_hashes: tuple[int, ...] = Field(
        default=(), description="Hashed token ids (the drift detector's view of the text)."
    )
    shape: MessageShape
    label: Label
    spam_probability: float = Field(ge=0, le=1)
    model: ModelRef
    variant: Variant = "champion"
    abtest_id: UUID | None = None
    shadow: ShadowScore | None = None
    latency_ms: float = Field(ge=0)


class Feedback(Payload):
    """A ground-truth label for an earlier prediction (or an imported labelled message)."""

    prediction_id: UUID
    label: Label
    source: Literal["api", "import", "simulator"] = "api"
    text: str | None = Field(
        default=None, description="Only for imports whose prediction carried no text."
    )
