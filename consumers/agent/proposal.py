"""What a policy proposes, before the hard guards have their say."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from consumers.agent.situation import Situation
from schemas.decisions import Action

__all__ = ["Policy", "Proposal"]


class Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=4000)
    target_version: int | None = None


class Policy(Protocol):
    name: str

    def decide(self, situation: Situation) -> Proposal: ...
