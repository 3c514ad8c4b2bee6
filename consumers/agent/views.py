"""What the read tools show: the situation as small, flat JSON objects a model reads well.

Every view names the thresholds next to the figures (the drift trigger beside the score, the
floor beside the accuracy, the cooldown beside the last retraining), so that a model never
has to remember a number from the prompt, and says whether its facts are the trigger's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["drift_view", "history_view", "hours", "models_view", "performance_view"]


def hours(delta: timedelta | None) -> float | None:
    """A duration in hours, rounded, for a model to read."""
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def _ago(s: Situation, moment: datetime | None) -> float | None:
    return None if moment is None else hours(s.now - moment)


def _stale(s: Situation, kind: str, held: object) -> str | None:
    if s.trigger_type == kind and held != s.trigger_id:
        return "the trigger measured a version that no longer serves: do not act on it"
    return None


def drift_view(s: Situation, settings: Settings) -> dict[str, Any]:
    d = s.drift
    trigger = settings.retrain.drift_score_trigger
    note = _stale(s, "drift.measured", s.drift_id)
    if d is None:
        return {"measured": False, "retrain_trigger_score": trigger, "note": note}
    return {
        "measured": True,
        "is_trigger": s.drift_id == s.trigger_id,
        "event_id": str(s.drift_id),
        "model_version": d.model.version,
        "predictions": d.n,
        "score": round(d.score, 4),
        "retrain_trigger_score": trigger,
        "score_above_trigger": d.score > trigger,
        "drifted_verdict": d.drifted,
        "statistics": [
            {
                "name": x.name,
                "value": round(x.value, 4),
                "threshold": x.threshold,
                "drifted": x.drifted,
            }
            for x in d.statistics
        ],
        "top_tokens": [t.token for t in d.top_tokens[:8]],
        "hours_ago": _ago(s, d.ended_at),
        "note": note,
    }


def performance_view(s: Situation, settings: Settings) -> dict[str, Any]:
    p = s.performance
    floor = settings.retrain.accuracy_floor
    note = _stale(s, "performance.measured", s.performance_id)
    if p is None:
        return {"measured": False, "accuracy_floor": floor, "note": note}
    m = p.metrics
    return {
        "measured": True,
        "is_trigger": s.performance_id == s.trigger_id,
        "event_id": str(s.performance_id),
        "model_version": p.model.version,
        "labels": m.n,
        "accuracy": round(m.accuracy, 4),
        "accuracy_floor": floor,
        "below_floor": m.accuracy < floor,
        "spam_recall": round(m.spam_recall, 4),
        "spam_precision": round(m.spam_precision, 4),
        "ham_false_positive_rate": round(m.ham_fpr, 4),
        "mcc": round(m.mcc, 4),
        "note": note,
    }


def _comparison(s: Situation, settings: Settings) -> dict[str, Any] | None:
    c = s.comparison
    if c is None:
        return None
    return {
        "event_id": str(s.comparison_id),
        "champion_version": c.champion.version,
        "challenger_version": c.challenger.version,
        "retrainer_verdict": c.decision,
        "champion_mcc": round(c.champion_metrics.mcc, 4),
        "challenger_mcc": round(c.challenger_metrics.mcc, 4),
        "champion_ham_fpr": round(c.champion_metrics.ham_fpr, 4),
        "challenger_ham_fpr": round(c.challenger_metrics.ham_fpr, 4),
        "ham_fpr_margin": settings.retrain.ham_fpr_margin,
        "mcnemar_p": round(c.mcnemar.p_value, 4),
        "already_promoted": s.comparison_acted,
    }


def models_view(s: Situation, settings: Settings) -> dict[str, Any]:
    window = timedelta(seconds=settings.agent.rollback_window_s)
    promoted = s.last_promotion_at
    ab = s.abtest
    done = s.abtest_conclusion
    return {
        "champion": s.champion,
        "previous_champion": s.previous_champion,
        "challenger": s.challenger,
        "champion_promoted_hours_ago": _ago(s, promoted),
        "rollback_window_hours": hours(window),
        "within_rollback_window": promoted is not None and s.now - promoted <= window,
        "champion_restored_by_rollback_hours_ago": _ago(s, s.last_rollback_at),
        "latest_comparison": _comparison(s, settings),
        "abtest_running": None
        if ab is None
        else {"champion": ab.champion.version, "challenger": ab.challenger.version},
        "abtest_concluded": None
        if done is None
        else {
            "event_id": str(s.abtest_conclusion_id),
            "winner": done.winner,
            "reason": done.reason,
            "tested_challenger_version": s.abtest_challenger,
            "error_rate_difference": round(done.effect, 5),
            "p_value": round(done.p_value, 5),
        },
    }


def history_view(s: Situation, settings: Settings) -> dict[str, Any]:
    cooldown = timedelta(seconds=settings.retrain.cooldown_s)
    last = s.last_retrain_at
    left = None if last is None else max(timedelta(0), cooldown - (s.now - last))
    return {
        "retrains_last_24h": s.retrains_since(s.now - timedelta(days=1)),
        "daily_cap": settings.retrain.max_per_day,
        "last_retrain_hours_ago": _ago(s, last),
        "cooldown_hours": hours(cooldown),
        "cooldown_left_hours": hours(left) if left else 0.0,
        "trigger_already_acted_on": s.trigger_id in s.acted_on,
        "recent_decisions": [
            {
                "hours_ago": _ago(s, d.at),
                "action": d.action,
                "target_version": d.target_version,
                "blocked_by": d.blocked_by,
                "policy": d.policy,
            }
            for d in s.decisions[-5:]
        ],
    }
