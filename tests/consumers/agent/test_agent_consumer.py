from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bus.bus import RedisBus
from consumers.agent.consumer import DecisionAgent
from schemas.catalogue import StreamName
from schemas.events import DecisionMade, ModelPromoted, RetrainRequested
from spamops.settings import Settings
from tests.api.doubles import MemoryRegistry
from tests.consumers.agent import builders as b


async def _decisions(bus: RedisBus) -> list[object]:
    page = await bus.read_page(StreamName.DECISIONS, limit=100)
    return [s.event for s in page.events]


async def test_drift_leads_to_one_retrain_and_cooldown_holds(
    fake_bus: RedisBus, settings: Settings
) -> None:
    agent = DecisionAgent(settings, fake_bus)
    await agent.start()
    now = datetime.now(UTC)
    first = b.drift(0.4, at=now)
    await agent.handle(first)
    await agent.handle(first)  # a redelivery changes nothing
    events = await _decisions(fake_bus)
    decision, request = events
    assert isinstance(decision, DecisionMade) and decision.payload.action == "retrain"
    assert first.id in decision.payload.input_event_ids and decision.payload.policy == "rule"
    assert isinstance(request, RetrainRequested) and request.payload.reason == "drift"
    assert request.payload.trigger_event_ids[0] == first.id
    assert request.correlation == decision.id

    await agent.handle(b.drift(0.5, at=now + timedelta(seconds=1)))  # within the cooldown
    latest = (await _decisions(fake_bus))[-1]
    assert isinstance(latest, DecisionMade) and latest.payload.action == "wait"
    assert (latest.payload.blocked_by or "").startswith("cooldown")


async def test_history_is_replayed_at_start(fake_bus: RedisBus, settings: Settings) -> None:
    await fake_bus.publish(b.retrain_requested(at=datetime.now(UTC) - timedelta(minutes=5)))
    agent = DecisionAgent(settings, fake_bus)
    await agent.start()
    assert len(agent.situation.retrain_times) == 1
    await agent.handle(b.drift(0.9, at=datetime.now(UTC)))
    latest = (await _decisions(fake_bus))[-1]
    assert isinstance(latest, DecisionMade) and latest.payload.blocked_by


async def test_abtest_winner_is_promoted_through_the_registry(
    fake_bus: RedisBus, settings: Settings
) -> None:
    registry = MemoryRegistry()
    agent = DecisionAgent(settings, fake_bus, registry=registry)
    await agent.start()
    now = datetime.now(UTC)
    await agent.handle(b.compared(1, 2, "keep", at=now))
    await agent.handle(b.abtest_concluded("challenger", at=now))
    assert registry.champion == 2
    models = (await fake_bus.read_page(StreamName.MODELS)).events
    promoted = [s.event for s in models if isinstance(s.event, ModelPromoted)]
    assert promoted and promoted[0].payload.version == 2 and promoted[0].payload.actor
