"""The decision agent as a consumer: fold events into a situation, decide, guard, act.

Every decision is a `decision.made` event carrying the policy, the input event ids, the
action, confidence and rationale, and the guard that blocked it, if any. Actions are events
too (`retrain.requested`, `alert.raised`, `abtest.started`) or registry moves followed by
their events (`model.promoted`, `model.rolled_back`).

At start the agent replays recent history to rebuild its situation without deciding; its
group starts at "$", so only events that arrive while it runs lead to decisions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ClassVar, cast

from bus.bus import RedisBus
from bus.idempotency import DoneMarks
from consumers.agent.guards import Guards
from consumers.agent.proposal import Policy, Proposal
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation, fold
from consumers.base import EventConsumer
from ml.protocols import ModelSource
from schemas.abtests import AbTestStart
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.decisions import Decision, RetrainReason, RetrainRequest
from schemas.envelope import Envelope, Payload, new_id
from schemas.events import (
    AbTestStarted,
    AlertRaised,
    DecisionMade,
    Event,
    ModelPromoted,
    ModelRolledBack,
    RetrainRequested,
)
from schemas.models import Promotion, Rollback
from schemas.operations import Alert
from spamops.settings import Settings

__all__ = ["DecisionAgent", "make_agent"]

log = logging.getLogger(__name__)

_TRIGGERS = frozenset(
    {"drift.measured", "performance.measured", "model.compared", "abtest.concluded"}
)
_REASONS: dict[str, RetrainReason] = {
    "drift.measured": "drift",
    "performance.measured": "performance",
}


class DecisionAgent(EventConsumer):
    group: ClassVar[str] = "agent"
    streams = (StreamName.DRIFT, StreamName.MODELS, StreamName.ABTESTS, StreamName.DECISIONS)
    event_types = frozenset(
        {
            "drift.measured",
            "performance.measured",
            "model.trained",
            "model.compared",
            "model.promoted",
            "model.rolled_back",
            "abtest.started",
            "abtest.concluded",
            "retrain.requested",
        }
    )
    start_id: ClassVar[str] = "$"

    def __init__(
        self,
        settings: Settings,
        bus: RedisBus,
        policy: Policy | None = None,
        registry: ModelSource | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.source = settings.source("agent")
        self.policy = policy or RulePolicy(settings)
        self.guards = Guards(settings)
        self.registry = registry
        self.situation = Situation(now=datetime.now(UTC))
        self.folded: set[object] = set()
        self.marks = DoneMarks(bus.redis, bus.keys, self.group, settings.bus.dedupe_ttl_s)

    async def start(self) -> None:
        since = datetime.now(UTC) - timedelta(days=self.settings.agent.history_days)
        for stream in self.streams:
            async for item in self.bus.replay(stream, since=since, types=self.event_types):
                self._fold(item.event)
        log.info(
            "agent knows: champion v%s, challenger v%s, %d recent retrainings",
            self.situation.champion,
            self.situation.challenger,
            len(self.situation.retrain_times),
        )

    def _fold(self, event: Event) -> None:
        if event.id not in self.folded:
            self.folded.add(event.id)
            self.situation = fold(self.situation, event)

    async def handle(self, event: Event) -> None:
        if event.id in self.folded:
            return  # replayed at start, or an event this agent published itself
        self._fold(event)
        if event.type not in _TRIGGERS or event.source == self.source:
            return
        if not await self.marks.claim(f"decided:{event.id}"):
            return  # another member, or an earlier delivery, already decided on it
        try:
            await self.decide(self.situation.model_copy(update={"now": datetime.now(UTC)}))
        except Exception:
            await self.marks.release(f"decided:{event.id}")
            raise

    async def decide(self, situation: Situation) -> DecisionMade:
        proposal = self.policy.decide(situation)
        final, blocked = self.guards.apply(proposal, situation)
        decision = DecisionMade(
            source=self.source,
            correlation=situation.trigger_id or new_id(),
            payload=Decision(
                policy="rule" if self.policy.name == "rule" else "llm",
                input_event_ids=situation.input_ids(),
                action=final.action,
                confidence=final.confidence,
                rationale=final.rationale,
                target_version=final.target_version,
                blocked_by=blocked,
            ),
        )
        await self.bus.publish(decision)
        for event in await self._act(final, situation, decision):
            await self.bus.publish(event)
            self._fold(cast(Event, event))
        return decision

    async def _act(
        self, proposal: Proposal, s: Situation, decision: DecisionMade
    ) -> list[Envelope]:
        name = self.settings.model.registered_name
        payload: Payload
        match proposal.action:
            case "retrain":
                kind: Callable[..., Envelope] = RetrainRequested
                payload = RetrainRequest(
                    reason=_REASONS.get(s.trigger_type or "", "agent"),
                    requested_by=self.source,
                    trigger_event_ids=s.input_ids(),
                    detail=proposal.rationale[:2000],
                )
            case "alert":
                kind, payload = (
                    AlertRaised,
                    Alert(
                        severity="warning",
                        title=f"agent: attention needed after {s.trigger_type}",
                        body=proposal.rationale,
                        dedupe_key=f"agent:{s.trigger_type}:{s.champion}",
                        source_event_id=s.trigger_id,
                    ),
                )
            case "promote":
                assert proposal.target_version is not None
                previous = await asyncio.to_thread(
                    self._registry().promote, proposal.target_version
                )
                kind, payload = (
                    ModelPromoted,
                    Promotion(
                        model_name=name,
                        version=proposal.target_version,
                        previous_version=previous,
                        reason=proposal.rationale[:2000],
                        actor=self.source,
                        comparison_event_id=s.comparison_id,
                    ),
                )
            case "rollback":
                from_v, to_v = await asyncio.to_thread(self._registry().rollback)
                kind, payload = (
                    ModelRolledBack,
                    Rollback(
                        model_name=name,
                        from_version=from_v,
                        to_version=to_v,
                        reason=proposal.rationale[:2000],
                        actor=self.source,
                    ),
                )
            case "start_abtest":
                assert proposal.target_version is not None and s.champion is not None
                kind, payload = (
                    AbTestStarted,
                    AbTestStart(
                        abtest_id=new_id(),
                        champion=ModelRef(name=name, version=s.champion, alias="champion"),
                        challenger=ModelRef(
                            name=name, version=proposal.target_version, alias="challenger"
                        ),
                        started_by=self.source,
                    ),
                )
            case _:
                return []
        return [kind(source=self.source, correlation=decision.id, payload=payload)]

    def _registry(self) -> ModelSource:
        if self.registry is None:
            from ml.registry import ModelRegistry  # MLflow: only when an action needs it

            self.registry = ModelRegistry(self.settings)
        return self.registry


def make_agent(settings: Settings, bus: RedisBus) -> DecisionAgent:
    return DecisionAgent(settings, bus)
