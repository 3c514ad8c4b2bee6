"""The rule policy: deterministic, explainable, no network. The default.

| trigger | condition | action |
|---|---|---|
| drift.measured | score > drift trigger (0.15) | retrain |
| drift.measured | verdict drifted, score below the trigger | alert |
| performance.measured | accuracy < floor (0.93), champion promoted < 24 h ago | rollback |
| performance.measured | accuracy < floor | retrain |
| model.compared | challenger better but not significantly, ham FPR not worse | start A/B test |
| abtest.concluded | challenger won | promote the challenger |
| anything else | | wait |
"""

from __future__ import annotations

from datetime import timedelta

from consumers.agent.proposal import Proposal
from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["RulePolicy"]


class RulePolicy:
    name = "rule"

    def __init__(self, settings: Settings) -> None:
        self.retrain = settings.retrain
        self.rollback_window = timedelta(seconds=settings.agent.rollback_window_s)

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
        return Proposal(action="wait", confidence=1.0, rationale="nothing to act on")

    def _drift(self, s: Situation) -> Proposal:
        d = s.drift
        if d is None:
            return Proposal(action="wait", confidence=1.0, rationale="no drift measurement")
        drifted = [x.name for x in d.statistics if x.drifted]
        tokens = ", ".join(t.token for t in d.top_tokens[:5]) or "none named"
        if d.score > self.retrain.drift_score_trigger:
            return Proposal(
                action="retrain",
                confidence=min(1.0, 0.5 + d.score / 2),
                rationale=(
                    f"drift score {d.score:.2f} > {self.retrain.drift_score_trigger:.2f} on "
                    f"{d.n} predictions of v{d.model.version}; drifted: "
                    f"{', '.join(drifted) or 'none'}; top tokens: {tokens}"
                ),
            )
        if d.drifted:
            return Proposal(
                action="alert",
                confidence=0.6,
                rationale=(
                    f"drift verdict on {', '.join(drifted)} but score {d.score:.2f} is below "
                    f"the retraining trigger {self.retrain.drift_score_trigger:.2f}: watch it"
                ),
            )
        return Proposal(
            action="wait",
            confidence=0.9,
            rationale=f"no drift (score {d.score:.2f}) on {d.n} predictions",
        )

    def _performance(self, s: Situation) -> Proposal:
        p = s.performance
        if p is None:
            return Proposal(action="wait", confidence=1.0, rationale="no performance window")
        m = p.metrics
        floor = self.retrain.accuracy_floor
        if m.accuracy >= floor:
            return Proposal(
                action="wait",
                confidence=0.9,
                rationale=f"accuracy {m.accuracy:.3f} ≥ floor {floor:.2f} on {m.n} labels",
            )
        fresh = (
            s.last_promotion_at is not None and s.now - s.last_promotion_at <= self.rollback_window
        )
        if fresh:
            return Proposal(
                action="rollback",
                confidence=0.8,
                rationale=(
                    f"accuracy {m.accuracy:.3f} < floor {floor:.2f} on {m.n} labels of "
                    f"v{p.model.version}, promoted {s.now - s.last_promotion_at} ago: "  # type: ignore[operator]
                    "roll back to the previous champion"
                ),
            )
        return Proposal(
            action="retrain",
            confidence=min(1.0, 0.6 + (floor - m.accuracy) * 4),
            rationale=(
                f"accuracy {m.accuracy:.3f} < floor {floor:.2f} on {m.n} labels of "
                f"v{p.model.version} (spam recall {m.spam_recall:.2f}, ham FPR {m.ham_fpr:.3f})"
            ),
        )

    def _comparison(self, s: Situation) -> Proposal:
        c = s.comparison
        if c is None or c.decision == "promote" or s.comparison_acted:
            return Proposal(
                action="wait",
                confidence=0.9,
                rationale="the retrainer promotes significant improvements itself",
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
        return Proposal(
            action="wait",
            confidence=0.8,
            rationale=f"keep v{c.champion.version}: the challenger is not better",
        )

    def _abtest(self, s: Situation) -> Proposal:
        c = s.abtest_conclusion
        if c is not None and c.winner == "challenger" and s.challenger is not None:
            return Proposal(
                action="promote",
                confidence=min(1.0, 1 - c.p_value),
                target_version=s.challenger,
                rationale=(
                    f"A/B test {c.abtest_id}: the challenger's error rate is lower by "
                    f"{-c.effect:.4f} (95% CI {c.ci_low:.4f}..{c.ci_high:.4f}, p={c.p_value:.4f})"
                ),
            )
        return Proposal(
            action="wait",
            confidence=0.8,
            rationale="the A/B test found no better challenger" if c else "no A/B result",
        )
