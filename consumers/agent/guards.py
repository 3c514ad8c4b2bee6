"""Hard guards over any policy's proposal: they hold whatever the policy (or LLM) says.

- retrain: not within the cooldown of the last retraining, not beyond the daily cap;
- promote: only a version a `model.compared` recommended, or an A/B test's winner;
- rollback: only when there is a champion to roll back from.
A blocked proposal becomes `wait`, and the decision records which guard blocked it.
"""

from __future__ import annotations

from datetime import timedelta

from consumers.agent.proposal import Proposal
from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["Guards"]


class Guards:
    def __init__(self, settings: Settings) -> None:
        self.cooldown = timedelta(seconds=settings.retrain.cooldown_s)
        self.max_per_day = settings.retrain.max_per_day

    def check(self, proposal: Proposal, s: Situation) -> str | None:
        """The name and reason of the guard that blocks `proposal`, or None."""
        if proposal.action == "retrain":
            last = s.last_retrain_at
            if last is not None and s.now - last < self.cooldown:
                return f"cooldown: last retraining {s.now - last} ago (< {self.cooldown})"
            if s.retrains_since(s.now - timedelta(days=1)) >= self.max_per_day:
                return f"daily cap: {self.max_per_day} retrainings in the last 24 h"
        if proposal.action == "promote":
            target = proposal.target_version
            supported = (
                s.comparison is not None
                and s.comparison.challenger.version == target
                and s.comparison.decision == "promote"
            ) or (
                s.abtest_conclusion is not None
                and s.abtest_conclusion.winner == "challenger"
                and s.challenger == target
            )
            if target is None or not supported:
                return f"no comparison supports promoting v{target}"
            if target == s.champion:
                return f"v{target} is already the champion"
        if proposal.action == "rollback" and s.champion is None:
            return "no champion to roll back from"
        if proposal.action == "start_abtest":
            if s.abtest is not None:
                return "an A/B test is already running"
            if not proposal.target_version or s.champion is None:
                return "no champion and challenger to test"
        return None

    def apply(self, proposal: Proposal, s: Situation) -> tuple[Proposal, str | None]:
        blocked = self.check(proposal, s)
        if blocked is None:
            return proposal, None
        waiting = Proposal(
            action="wait",
            confidence=proposal.confidence,
            rationale=f"{proposal.action} blocked ({blocked}); policy said: {proposal.rationale}",
            target_version=proposal.target_version,
        )
        return waiting, blocked
