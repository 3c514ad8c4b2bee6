"""The decision agent as a consumer: fold events into a situation, decide, guard, act.

Every decision is a `decision.made` event carrying the policy (and, for the LLM, the model,
prompt version and any fallback), the input event ids, the action, confidence and rationale,
and the guard that blocked it, if any. Actions are events too (`retrain.requested`,
`alert.raised`, `abtest.started`) or registry moves followed by their events
(`model.promoted`, `model.rolled_back`).

At start the agent replays recent history to rebuild its situation without deciding; its
group starts at "$", so only events that arrive while it runs lead to decisions. Each trigger
event is claimed once in Redis before deciding, whichever policy decides, so a redelivery or
a second replica never acts on it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ClassVar, cast

from bus.bus import RedisBus
from bus.idempotency import DoneMarks
from consumers.agent.deliberation import deciding, deliberate, make_policy
from consumers.agent.guards import Guards
from consumers.agent.proposal import DecidingPolicy, Policy, Proposal
from consumers.agent.replay import history
from consumers.agent.situation import FOLDED_TYPES, TRIGGER_TYPES, Situation, fold
from consumers.base import EventConsumer
from ml.protocols import ModelSource
from schemas.abtests import AbTestStart
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.decisions import RetrainReason, RetrainRequest
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

_REASONS: dict[str, RetrainReason] = {
    "drift.measured": "drift",
    "performance.measured": "performance",
}


class DecisionAgent(EventConsumer):
    group: ClassVar[str] = "agent"
    streams = (StreamName.DRIFT, StreamName.MODELS, StreamName.ABTESTS, StreamName.DECISIONS)
    event_types = FOLDED_TYPES
    start_id: ClassVar[str] = "$"

    def __init__(
        self,
        settings: Settings,
        bus: RedisBus,
        policy: Policy | DecidingPolicy | None = None,
        registry: ModelSource | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.source = settings.source("agent")
        self.policy = deciding(policy) if policy is not None else make_policy(settings)
        self.guards = Guards(settings)
        self.registry = registry
        self.situation = Situation(now=datetime.now(UTC))
        self.folded: set[object] = set()
        self.marks = DoneMarks(bus.redis, bus.keys, self.group, settings.bus.dedupe_ttl_s)

    async def start(self) -> None:
        since = datetime.now(UTC) - timedelta(days=self.settings.agent.history_days)
        for event in await history(self.bus, since):
            self._fold(event)
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
        if event.type not in TRIGGER_TYPES or event.source == self.source:
            return
        if not await self.marks.claim(f"decided:{event.id}"):
            return  # another member, or an earlier delivery, already decided on it
        try:
            await self.decide(self.situation.model_copy(update={"now": datetime.now(UTC)}))
        except Exception:
            await self.marks.release(f"decided:{event.id}")
            raise

    async def decide(self, situation: Situation) -> DecisionMade:
        """Decide, act, then record: a registry move that fails leaves no decision behind,
        so the redelivered trigger is decided afresh instead of counting as acted on."""
        payload = await deliberate(self.policy, self.guards, situation)
        decision = DecisionMade(
            source=self.source, correlation=situation.trigger_id or new_id(), payload=payload
        )
        final = Proposal(
            action=payload.action,
            confidence=payload.confidence,
            rationale=payload.rationale,
            target_version=payload.target_version,
        )
        events = await self._act(final, situation, decision)
        await self.bus.publish(decision)
        self._fold(decision)
        for event in events:
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
