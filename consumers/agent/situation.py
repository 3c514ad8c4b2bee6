"""What the agent knows when it decides: the latest facts, folded from the event streams.

Both policies (rules and the LLM) decide from a `Situation`, and every decision records the
ids of the events the situation was built from, so a decision can be replayed: folding the
same events again gives the same situation (`fold` is pure).

Measurements of a model that no longer serves are not kept (drift and quality are properties
of the serving champion), but they still become the trigger, so a policy sees that the
trigger's measurement is not the one it holds and can decline to act on stale numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.abtests import AbTestConclusion, AbTestStart
from schemas.decisions import Action
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    DecisionMade,
    DriftMeasured,
    Event,
    ModelCompared,
    ModelPromoted,
    ModelRolledBack,
    ModelTrained,
    PerformanceMeasured,
    RetrainRequested,
)
from schemas.models import ModelComparison
from schemas.monitoring import DriftMeasurement, PerformanceMeasurement

__all__ = ["FOLDED_TYPES", "TRIGGER_TYPES", "PastDecision", "Situation", "fold"]

TRIGGER_TYPES = frozenset(
    {"drift.measured", "performance.measured", "model.compared", "abtest.concluded"}
)
"""Event types the agent decides on; everything else only updates what it knows."""
FOLDED_TYPES = TRIGGER_TYPES | {
    "model.trained",
    "model.promoted",
    "model.rolled_back",
    "abtest.started",
    "retrain.requested",
    "decision.made",
}
"""Every event type `fold` learns from."""

_MARKS = TRIGGER_TYPES | {"model.promoted", "model.rolled_back"}
_KEEP_DECISIONS = 10
_KEEP_ACTED = 200


class PastDecision(BaseModel):
    """A recent `decision.made`, as the history tool shows it."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    action: Action
    target_version: int | None = None
    blocked_by: str | None = None
    policy: str


class Situation(BaseModel):
    model_config = ConfigDict(frozen=True)

    now: datetime
    trigger_id: UUID | None = None
    trigger_type: str | None = None
    champion: int | None = None
    previous_champion: int | None = None
    """What a rollback would restore: the champion before the latest promotion."""
    challenger: int | None = None
    drift: DriftMeasurement | None = None
    drift_id: UUID | None = None
    performance: PerformanceMeasurement | None = None
    performance_id: UUID | None = None
    comparison: ModelComparison | None = None
    comparison_id: UUID | None = None
    comparison_acted: bool = False
    """A promotion already followed this comparison."""
    abtest: AbTestStart | None = None
    """The A/B test running now, if any."""
    abtest_conclusion: AbTestConclusion | None = None
    abtest_conclusion_id: UUID | None = None
    abtest_challenger: int | None = None
    """The version the concluded A/B test tried as challenger (None: unknown)."""
    retrain_times: tuple[datetime, ...] = ()
    """When retraining was requested, newest last (for cooldown and the daily cap)."""
    last_promotion_at: datetime | None = None
    """When the serving champion was promoted; None if it was restored by a rollback."""
    last_rollback_at: datetime | None = None
    acted_on: tuple[UUID, ...] = ()
    """The deciding input of every recent decision that acted (see `guards.basis`)."""
    decisions: tuple[PastDecision, ...] = ()
    """The most recent decisions, newest last."""

    @property
    def last_retrain_at(self) -> datetime | None:
        return self.retrain_times[-1] if self.retrain_times else None

    def retrains_since(self, moment: datetime) -> int:
        return sum(t >= moment for t in self.retrain_times)

    def input_ids(self, first: UUID | None = None) -> tuple[UUID, ...]:
        """The events this situation rests on; `first` (the deciding input) leads."""
        ids = [
            first,
            self.trigger_id,
            self.drift_id,
            self.performance_id,
            self.comparison_id,
            self.abtest_conclusion_id,
        ]
        return tuple(dict.fromkeys(i for i in ids if i is not None))


def _serves(state: Situation, version: int) -> bool:
    return state.champion is None or version == state.champion


def fold(state: Situation, event: Event) -> Situation:
    """The situation after `event` (pure: replaying the same events gives the same state)."""
    update: dict[str, object] = {"now": max(state.now, event.occurred_at)}
    if isinstance(event, DriftMeasured):
        if _serves(state, event.payload.model.version):
            update |= {"drift": event.payload, "drift_id": event.id}
    elif isinstance(event, PerformanceMeasured):
        if _serves(state, event.payload.model.version):
            update |= {"performance": event.payload, "performance_id": event.id}
    elif isinstance(event, ModelTrained):
        if event.payload.model.alias == "challenger":
            update |= {"challenger": event.payload.model.version}
        elif event.payload.model.alias == "champion":
            update |= {"champion": event.payload.model.version}
    elif isinstance(event, ModelCompared):
        update |= {
            "comparison": event.payload,
            "comparison_id": event.id,
            "comparison_acted": False,
            "challenger": event.payload.challenger.version,
            "champion": state.champion or event.payload.champion.version,
        }
    elif isinstance(event, ModelPromoted) and event.payload.alias == "challenger":
        update["challenger"] = event.payload.version
    elif isinstance(event, ModelPromoted):
        update |= _new_champion(state, event.payload.version)
        update |= {
            "previous_champion": event.payload.previous_version,
            "last_promotion_at": event.occurred_at,
            "comparison_acted": True,
        }
    elif isinstance(event, ModelRolledBack):
        update |= _new_champion(state, event.payload.to_version)
        update |= {
            "previous_champion": None,  # one step back; a second needs a person
            "last_promotion_at": None,
            "last_rollback_at": event.occurred_at,
        }
    elif isinstance(event, RetrainRequested):
        cutoff = event.occurred_at - timedelta(days=2)
        times = tuple(t for t in state.retrain_times if t >= cutoff)
        update["retrain_times"] = (*times, event.occurred_at)
    elif isinstance(event, AbTestStarted):
        update |= {"abtest": event.payload, "abtest_conclusion": None}
    elif isinstance(event, AbTestConcluded):
        update |= {
            "abtest": None,
            "abtest_conclusion": event.payload,
            "abtest_conclusion_id": event.id,
            "abtest_challenger": _tested_challenger(state, event),
        }
    elif isinstance(event, DecisionMade):
        update |= _decided(state, event)
    if event.type in _MARKS:
        update |= {"trigger_id": event.id, "trigger_type": event.type}
    return state.model_copy(update=update)


def _new_champion(state: Situation, version: int) -> dict[str, object]:
    return {
        "champion": version,
        "challenger": None if state.challenger == version else state.challenger,
        "performance": None,  # the old champion's quality says nothing about the new one
        "performance_id": None,
        "drift": None,
        "drift_id": None,
    }


def _tested_challenger(state: Situation, event: AbTestConcluded) -> int | None:
    """The A/B test's challenger: from its start if known, else from the arms' figures."""
    started = state.abtest
    if started is not None and started.abtest_id == event.payload.abtest_id:
        return started.challenger.version
    arms = [a.model_version for a in event.payload.arms if a.variant == "challenger"]
    return arms[0] if arms else None


def _decided(state: Situation, event: DecisionMade) -> dict[str, object]:
    d = event.payload
    note = PastDecision(
        at=event.occurred_at,
        action=d.action,
        target_version=d.target_version,
        blocked_by=d.blocked_by,
        policy=d.policy,
    )
    update: dict[str, object] = {"decisions": (*state.decisions, note)[-_KEEP_DECISIONS:]}
    if d.action != "wait" and d.input_event_ids:
        update["acted_on"] = (*state.acted_on, d.input_event_ids[0])[-_KEEP_ACTED:]
    return update
