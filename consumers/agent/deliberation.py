"""How a decision is reached, wherever it is reached: policy, then hard guards, then the record.

The consumer, `spamops decisions replay` and the scenario benchmark all go through
`deliberate`, so what is measured and replayed is exactly what runs.
"""

from __future__ import annotations

from typing import Literal

from consumers.agent.guards import Guards, basis
from consumers.agent.proposal import Choice, DecidingPolicy, Policy
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation
from schemas.decisions import Decision
from spamops.settings import Settings

__all__ = ["deciding", "deliberate", "make_policy"]


class _Synchronous:
    """A plain `Policy` (decide → Proposal) as a `DecidingPolicy`."""

    def __init__(self, policy: Policy) -> None:
        self.inner = policy
        self.name = policy.name

    async def choose(self, situation: Situation) -> Choice:
        kind: Literal["rule", "llm"] = "rule" if self.name == "rule" else "llm"
        return Choice(proposal=self.inner.decide(situation), policy=kind)


def deciding(policy: Policy | DecidingPolicy) -> DecidingPolicy:
    return policy if isinstance(policy, DecidingPolicy) else _Synchronous(policy)


def make_policy(settings: Settings) -> DecidingPolicy:
    """The policy `settings.agent.policy` names (LangChain is imported only for `llm`)."""
    if settings.agent.policy == "llm":
        from consumers.agent.llm import LlmPolicy

        return LlmPolicy(settings)
    return RulePolicy(settings)


async def deliberate(policy: DecidingPolicy, guards: Guards, s: Situation) -> Decision:
    """Ask the policy, let the guards overrule it, and record how the decision came about."""
    choice = await policy.choose(s)
    final, blocked = guards.apply(choice.proposal, s)
    return Decision(
        policy=choice.policy,
        llm_model=choice.llm_model,
        prompt_version=choice.prompt_version,
        fell_back=choice.fell_back,
        fallback_reason=choice.fallback_reason,
        input_event_ids=s.input_ids(basis(final, s)),
        action=final.action,
        confidence=final.confidence,
        rationale=final.rationale,
        target_version=final.target_version,
        blocked_by=blocked,
    )
