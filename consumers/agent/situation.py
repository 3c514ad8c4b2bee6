"""What the agent knows when it decides: the latest facts, folded from the event streams.

Both policies (rules and the LLM) decide from a `Situation`, and every decision records the
ids of the events the situation was built from, so a decision can be replayed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.abtests import AbTestConclusion, AbTestStart
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

__all__ = ["Situation", "fold"]


class Situation(BaseModel):
    model_config = ConfigDict(frozen=True)

    now: datetime
    trigger_id: UUID | None = None
    trigger_type: str | None = None
    champion: int | None = None
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
    abtest_conclusion: AbTestConclusion | None = None
    abtest_conclusion_id: UUID | None = None
    retrain_times: tuple[datetime, ...] = ()
    """When retraining was requested, newest last (for cooldown and the daily cap)."""
    last_promotion_at: datetime | None = None

    @property
    def last_retrain_at(self) -> datetime | None:
        return self.retrain_times[-1] if self.retrain_times else None

    def retrains_since(self, moment: datetime) -> int:
        return sum(t >= moment for t in self.retrain_times)

    def input_ids(self) -> tuple[UUID, ...]:
        ids = [
            self.trigger_id,
            self.drift_id,
            self.performance_id,
            self.comparison_id,
            self.abtest_conclusion_id,
        ]
        return tuple(dict.fromkeys(i for i in ids if i is not None))


def fold(state: Situation, event: Event) -> Situation:
    """The situation after `event` (pure: replaying the same events gives the same state)."""
    update: dict[str, object] = {"now": max(state.now, event.occurred_at)}
    if isinstance(event, DriftMeasured):
        update |= {"drift": event.payload, "drift_id": event.id}
    elif isinstance(event, PerformanceMeasured):
        if state.champion is None or event.payload.model.version == state.champion:
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
    elif isinstance(event, ModelPromoted) and event.payload.alias == "champion":
        update |= _new_champion(state, event.payload.version, event.occurred_at)
        update["comparison_acted"] = True
    elif isinstance(event, ModelRolledBack):
        update |= _new_champion(state, event.payload.to_version, event.occurred_at)
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
        }
    elif isinstance(event, DecisionMade):
        return state.model_copy(update=update)
    if event.type in {
        "drift.measured",
        "performance.measured",
        "model.compared",
        "abtest.concluded",
        "model.promoted",
        "model.rolled_back",
    }:
        update |= {"trigger_id": event.id, "trigger_type": event.type}
    return state.model_copy(update=update)


def _new_champion(state: Situation, version: int, at: datetime) -> dict[str, object]:
    return {
        "champion": version,
        "challenger": None if state.challenger == version else state.challenger,
        "last_promotion_at": at,
        "performance": None,  # the old champion's quality says nothing about the new one
        "performance_id": None,
        "drift": None,
        "drift_id": None,
    }
