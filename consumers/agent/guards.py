"""Hard guards over any policy's proposal: they hold whatever the policy (or LLM) says.

- never act twice on the same input: the deciding input of an action (its `basis`) must not
  have led to an action before (the consumer also claims each trigger event once);
- retrain: not within the cooldown of the last retraining, not beyond the daily cap;
- promote: only a version a `model.compared` recommended, or an A/B test's winner;
- rollback: only from a champion whose promotion the agent saw, to the one before it;
- start A/B test: none running, and only the current challenger, compared with the champion.
A blocked proposal becomes `wait`, and the decision records which guard blocked it.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from consumers.agent.proposal import Proposal
from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["Guards", "basis"]


def basis(proposal: Proposal, s: Situation) -> UUID | None:
    """The input event an action rests on: what "acting twice on the same input" means."""
    match proposal.action:
        case "promote" if _ab_supports(s, proposal.target_version):
            return s.abtest_conclusion_id
        case "promote" if _comparison_supports(s, proposal.target_version):
            return s.comparison_id
        case "start_abtest":
            return s.comparison_id or s.trigger_id
        case "rollback":
            return s.performance_id or s.trigger_id
    return s.trigger_id


def _comparison_supports(s: Situation, target: int | None) -> bool:
    c = s.comparison
    return c is not None and c.decision == "promote" and c.challenger.version == target


def _ab_supports(s: Situation, target: int | None) -> bool:
    c = s.abtest_conclusion
    return (
        c is not None
        and c.winner == "challenger"
        and target is not None
        and s.abtest_challenger == target
    )


class Guards:
    def __init__(self, settings: Settings) -> None:
        self.cooldown = timedelta(seconds=settings.retrain.cooldown_s)
        self.max_per_day = settings.retrain.max_per_day

    def cooldown_left(self, s: Situation) -> timedelta | None:
        """How long until the next retraining may be requested; None if it may now."""
        last = s.last_retrain_at
        if last is None or s.now - last >= self.cooldown:
            return None
        return self.cooldown - (s.now - last)

    def cap_reached(self, s: Situation) -> bool:
        return s.retrains_since(s.now - timedelta(days=1)) >= self.max_per_day

    def check(self, proposal: Proposal, s: Situation) -> str | None:
        """The name and reason of the guard that blocks `proposal`, or None."""
        if proposal.action == "wait":
            return None
        deciding = basis(proposal, s)
        if deciding is not None and deciding in s.acted_on:
            return f"already acted: event {deciding} led to an action before"
        match proposal.action:
            case "retrain":
                return self._retrain(s)
            case "promote":
                return self._promote(proposal.target_version, s)
            case "rollback":
                return self._rollback(s)
            case "start_abtest":
                return self._abtest(proposal.target_version, s)
        return None

    def _retrain(self, s: Situation) -> str | None:
        if self.cooldown_left(s) is not None:
            assert s.last_retrain_at is not None
            ago = s.now - s.last_retrain_at
            return f"cooldown: last retraining {ago} ago (< {self.cooldown})"
        if self.cap_reached(s):
            return f"daily cap: {self.max_per_day} retrainings in the last 24 h"
        return None

    def _promote(self, target: int | None, s: Situation) -> str | None:
        if not (_comparison_supports(s, target) or _ab_supports(s, target)):
            return f"no comparison supports promoting v{target}"
        if target == s.champion:
            return f"v{target} is already the champion"
        return None

    def _rollback(self, s: Situation) -> str | None:
        if s.champion is None:
            return "no champion to roll back from"
        if s.previous_champion is None or s.previous_champion == s.champion:
            return f"no earlier champion known to roll v{s.champion} back to"
        return None

    def _abtest(self, target: int | None, s: Situation) -> str | None:
        if s.abtest is not None:
            return "an A/B test is already running"
        if not target or s.champion is None:
            return "no champion and challenger to test"
        if target == s.champion:
            return f"v{target} is the champion"
        c = s.comparison
        if target != s.challenger or c is None or c.challenger.version != target:
            return f"v{target} is not the compared challenger"
        if c.champion.version != s.champion:
            return f"v{target} was compared with v{c.champion.version}, not champion v{s.champion}"
        return None

    def apply(self, proposal: Proposal, s: Situation) -> tuple[Proposal, str | None]:
        blocked = self.check(proposal, s)
        if blocked is None:
            return proposal, None
        waiting = Proposal(
            action="wait",
            confidence=proposal.confidence,
            rationale=f"{proposal.action} blocked ({blocked}); policy said: {proposal.rationale}"[
                :4000
            ],
            target_version=proposal.target_version,
        )
        return waiting, blocked
