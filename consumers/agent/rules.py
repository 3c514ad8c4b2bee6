"""The rule policy: deterministic, explainable, no network. The default.

| trigger | condition | action |
|---|---|---|
| drift / performance | measured on a version that no longer serves | wait |
| drift.measured | score > drift trigger (0.15) | retrain |
| drift.measured | score > trigger, daily retrain cap reached | alert (a person decides) |
| drift.measured | drifted verdict, score ≤ trigger | wait (the alerter already warns) |
| performance.measured | accuracy < floor (0.93), champion promoted ≤ 24 h ago | rollback |
| performance.measured | accuracy < floor | retrain (cap reached: alert) |
| model.compared | verdict "keep", better MCC, ham FPR within the margin, no A/B test | start A/B |
| model.compared | compared with a champion that no longer serves | wait |
| abtest.concluded | challenger won | promote the version the test tried |
| anything else | | wait |

A retraining inside the cooldown is still proposed: the guard turns it into `wait` and the
decision records that a retraining is already under way.
"""

from __future__ import annotations

from datetime import timedelta

from consumers.agent.guards import Guards
from consumers.agent.proposal import Choice, Proposal
from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["RulePolicy"]


def _wait(rationale: str, confidence: float = 0.9) -> Proposal:
    return Proposal(action="wait", confidence=confidence, rationale=rationale)


class RulePolicy:
    name = "rule"

    def __init__(self, settings: Settings) -> None:
        self.retrain = settings.retrain
        self.rollback_window = timedelta(seconds=settings.agent.rollback_window_s)
        self.guards = Guards(settings)

    async def choose(self, situation: Situation) -> Choice:
        return Choice(proposal=self.decide(situation), policy="rule")

    def decide(self, s: Situation) -> Proposal:
        match s.trigger_type:
            case "drift.measured":
                return self._drift(s)
            case "performance.measured":
                return self._performance(s)
            case "model.compared":
                return self._comparison(s)
            case "abtest.concluded":
                return self._abtest(s)
        return _wait("nothing to act on", 1.0)

    def _retrain_or_escalate(self, s: Situation, retrain: Proposal) -> Proposal:
        """Retrain; once the daily cap is spent (and no retraining is under way), ask a person."""
        if self.guards.cooldown_left(s) is None and self.guards.cap_reached(s):
            return Proposal(
                action="alert",
                confidence=0.8,
                rationale=(
                    f"{retrain.rationale}. The daily cap of {self.guards.max_per_day} "
                    "retrainings is spent and the problem persists: a person has to look"
                ),
            )
        return retrain

    def _drift(self, s: Situation) -> Proposal:
        d = s.drift
        if d is None or s.drift_id != s.trigger_id:
            return _wait("the drift was measured on a version that no longer serves", 1.0)
        drifted = [x.name for x in d.statistics if x.drifted]
        tokens = ", ".join(t.token for t in d.top_tokens[:5]) or "none named"
        trigger = self.retrain.drift_score_trigger
        if d.score > trigger:
            retrain = Proposal(
                action="retrain",
                confidence=min(1.0, 0.5 + d.score / 2),
                rationale=(
                    f"drift score {d.score:.2f} > {trigger:.2f} on {d.n} predictions of "
                    f"v{d.model.version}; drifted: {', '.join(drifted) or 'none'}; "
                    f"top tokens: {tokens}"
                ),
            )
            return self._retrain_or_escalate(s, retrain)
        if d.drifted:
            return _wait(
                f"drift verdict on {', '.join(drifted) or 'the window'} but score {d.score:.2f} "
                f"≤ the retraining trigger {trigger:.2f}: the alerter has warned; watching",
                0.7,
            )
        return _wait(f"no drift (score {d.score:.2f}) on {d.n} predictions")

    def _performance(self, s: Situation) -> Proposal:
        p = s.performance
        if p is None or s.performance_id != s.trigger_id:
            return _wait("the quality was measured on a version that no longer serves", 1.0)
        m = p.metrics
        floor = self.retrain.accuracy_floor
        if m.accuracy >= floor:
            return _wait(f"accuracy {m.accuracy:.3f} ≥ floor {floor:.2f} on {m.n} labels")
        below = (
            f"accuracy {m.accuracy:.3f} < floor {floor:.2f} on {m.n} labels of "
            f"v{p.model.version} (spam recall {m.spam_recall:.2f}, ham FPR {m.ham_fpr:.3f})"
        )
        promoted = s.last_promotion_at
        if (
            promoted is not None
            and s.now - promoted <= self.rollback_window
            and s.previous_champion is not None
        ):
            return Proposal(
                action="rollback",
                confidence=0.8,
                rationale=(
                    f"{below}, promoted {s.now - promoted} ago: roll back to v{s.previous_champion}"
                ),
            )
        retrain = Proposal(
            action="retrain", confidence=min(1.0, 0.6 + (floor - m.accuracy) * 4), rationale=below
        )
        return self._retrain_or_escalate(s, retrain)

    def _comparison(self, s: Situation) -> Proposal:
        c = s.comparison
        if c is None or c.decision == "promote" or s.comparison_acted:
            return _wait("the retrainer promotes significant improvements itself")
        if s.champion is not None and c.champion.version != s.champion:
            return _wait(
                f"v{c.challenger.version} was compared with v{c.champion.version}, "
                f"but v{s.champion} serves now"
            )
        better = c.challenger_metrics.mcc > c.champion_metrics.mcc
        fpr_ok = (
            c.challenger_metrics.ham_fpr <= c.champion_metrics.ham_fpr + self.retrain.ham_fpr_margin
        )
        if better and fpr_ok and s.abtest is None:
            return Proposal(
                action="start_abtest",
                confidence=0.6,
                target_version=c.challenger.version,
                rationale=(
                    f"v{c.challenger.version} beats v{c.champion.version} on MCC "
                    f"({c.challenger_metrics.mcc:.3f} vs {c.champion_metrics.mcc:.3f}) but not "
                    f"significantly (McNemar p={c.mcnemar.p_value:.3f}): test it on live traffic"
                ),
            )
        if better and fpr_ok:
            return _wait("an A/B test is already running: one at a time", 0.8)
        why = "is not better on MCC" if not better else "raises the ham false-positive rate"
        return _wait(f"keep v{c.champion.version}: v{c.challenger.version} {why}", 0.8)

    def _abtest(self, s: Situation) -> Proposal:
        c = s.abtest_conclusion
        if c is None:
            return _wait("no A/B result", 0.8)
        if c.winner != "challenger":
            return _wait(f"the A/B test found no better challenger ({c.winner}, {c.reason})", 0.8)
        version = s.abtest_challenger
        if version is None or version == s.champion:
            return _wait(f"the A/B winner v{version} is unknown or already serves", 0.8)
        return Proposal(
            action="promote",
            confidence=min(1.0, 1 - c.p_value),
            target_version=version,
            rationale=(
                f"A/B test {c.abtest_id}: v{version}'s error rate is lower by "
                f"{-c.effect:.4f} (95% CI {c.ci_low:.4f}..{c.ci_high:.4f}, p={c.p_value:.4f})"
            ),
        )
