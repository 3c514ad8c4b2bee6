"""What a policy proposes, before the hard guards have their say, and how it got there.

`Policy` is the simple, synchronous shape (the rule policy); `DecidingPolicy` is what the
consumer calls: asynchronous (an LLM takes seconds) and returning a `Choice`, which also
says which policy, model and prompt produced the proposal and whether it fell back.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from consumers.agent.situation import Situation
from schemas.decisions import Action

__all__ = ["Choice", "DecidingPolicy", "Policy", "Proposal"]


class Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=4000)
    target_version: int | None = None


class Choice(BaseModel):
    """A proposal with its provenance, as `decision.made` records it."""

    model_config = ConfigDict(frozen=True)

    proposal: Proposal
    policy: Literal["rule", "llm"]
    llm_model: str | None = None
    prompt_version: str | None = None
    fell_back: bool = False
    fallback_reason: str | None = Field(default=None, max_length=1000)


class Policy(Protocol):
    name: str

    def decide(self, situation: Situation) -> Proposal: ...


@runtime_checkable
class DecidingPolicy(Protocol):
    name: str

    async def choose(self, situation: Situation) -> Choice: ...
