"""Payloads of the `decisions` stream: retraining requests and agent decisions."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Payload

__all__ = ["Action", "Decision", "RetrainReason", "RetrainRequest"]

RetrainReason = Literal["schedule", "drift", "performance", "manual", "agent"]
Action = Literal["retrain", "wait", "alert", "promote", "rollback", "start_abtest"]


class RetrainRequest(Payload):
    """Ask the retrainer for a new challenger. The event id is the request id."""

    reason: RetrainReason
    requested_by: str = Field(min_length=1, max_length=200)
    trigger_event_ids: tuple[UUID, ...] = ()
    detail: str = Field(default="", max_length=2000)


class Decision(Payload):
    """What the agent decided, from which inputs, and why: enough to replay and audit it."""

    policy: Literal["rule", "llm"]
    llm_model: str | None = None
    prompt_version: str | None = None
    fell_back: bool = Field(default=False, description="The LLM failed; the rule policy decided.")
    fallback_reason: str | None = None
    input_event_ids: tuple[UUID, ...]
    action: Action
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=4000)
    target_version: int | None = Field(default=None, ge=1)
    blocked_by: str | None = Field(
        default=None, description="The hard guard that turned the chosen action into `wait`."
    )
