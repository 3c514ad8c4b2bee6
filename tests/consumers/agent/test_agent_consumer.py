from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bus.bus import RedisBus
from consumers.agent.consumer import DecisionAgent
from ml.errors import ModelNotFoundError
from schemas.catalogue import StreamName
from schemas.events import DecisionMade, ModelPromoted, RetrainRequested
from spamops.settings import AgentSettings, Settings
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
    await agent.handle(b.abtest_concluded("challenger", at=now, challenger=2))
    assert registry.champion == 2
    models = (await fake_bus.read_page(StreamName.MODELS)).events
    promoted = [s.event for s in models if isinstance(s.event, ModelPromoted)]
    assert promoted and promoted[0].payload.version == 2 and promoted[0].payload.actor


def _llm_agent(
    settings: Settings, bus: RedisBus, *turns: object, registry: MemoryRegistry | None = None
) -> DecisionAgent:
    from consumers.agent.llm import LlmPolicy
    from tests.consumers.agent.scripted import scripted

    llm = settings.model_copy(
        update={"agent": AgentSettings(policy="llm", llm_model="scripted:test")}
    )
    policy = LlmPolicy(llm, chat_model=scripted(*turns))  # type: ignore[arg-type]
    return DecisionAgent(llm, bus, policy=policy, registry=registry)


async def test_llm_agent_decides_once_per_input_event(
    fake_bus: RedisBus, settings: Settings
) -> None:
    from tests.consumers.agent.scripted import answer, call

    turns = (call("get_drift"), call("request_retraining", reason="drift"), answer("retrain"))
    agent = _llm_agent(settings, fake_bus, *turns, *turns)
    await agent.start()
    event = b.drift(0.4, at=datetime.now(UTC))
    await agent.handle(event)
    await agent.handle(event)  # redelivered: already claimed
    twin = _llm_agent(settings, fake_bus, *turns)  # a second replica gets it too
    await twin.start()
    await twin.handle(event)
    events = await _decisions(fake_bus)
    decision, request = events
    assert isinstance(decision, DecisionMade) and isinstance(request, RetrainRequested)
    p = decision.payload
    assert (p.policy, p.llm_model, p.prompt_version, p.fell_back) == (
        "llm",
        "scripted:test",
        "decide-v1",
        False,
    )
    assert p.action == "retrain" and request.correlation == decision.id


async def test_llm_agent_cannot_promote_without_support(
    fake_bus: RedisBus, settings: Settings
) -> None:
    from tests.consumers.agent.scripted import answer, call

    registry = MemoryRegistry()
    turns = (call("promote", version=2, reason="looks good"), answer("promote", target_version=2))
    agent = _llm_agent(settings, fake_bus, *turns, registry=registry)
    await agent.start()
    await agent.handle(b.compared(1, 2, "keep", mcc_gain=-0.01, at=datetime.now(UTC)))
    (decision,) = await _decisions(fake_bus)
    assert isinstance(decision, DecisionMade) and decision.payload.action == "wait"
    assert "no comparison supports" in (decision.payload.blocked_by or "")
    assert registry.champion == 1 and not (await fake_bus.read_page(StreamName.MODELS)).events


async def test_llm_agent_falls_back_and_still_acts(fake_bus: RedisBus, settings: Settings) -> None:
    agent = _llm_agent(settings, fake_bus, "no tools today")
    await agent.start()
    await agent.handle(b.performance(0.5, at=datetime.now(UTC)))
    decision, request = await _decisions(fake_bus)
    assert isinstance(decision, DecisionMade) and decision.payload.fell_back
    assert decision.payload.action == "retrain" and isinstance(request, RetrainRequested)
    assert "invalid output" in (decision.payload.fallback_reason or "")


async def test_a_failed_registry_move_is_decided_again(
    fake_bus: RedisBus, settings: Settings
) -> None:
    registry = MemoryRegistry(versions_available=[1])  # v2 is not there yet: promote fails
    agent = DecisionAgent(settings, fake_bus, registry=registry)
    await agent.start()
    now = datetime.now(UTC)
    await agent.handle(b.compared(1, 2, "keep", at=now))  # starts an A/B test
    won = b.abtest_concluded("challenger", at=now, challenger=2)
    with pytest.raises(ModelNotFoundError):
        await agent.handle(won)
    assert [
        e.payload.action for e in await _decisions(fake_bus) if isinstance(e, DecisionMade)
    ] == ["start_abtest"]
    registry.versions_available.append(2)
    agent.folded.discard(won.id)  # the bus redelivers it
    await agent.handle(won)
    latest = [e for e in await _decisions(fake_bus) if isinstance(e, DecisionMade)][-1]
    assert latest.payload.action == "promote" and registry.champion == 2
