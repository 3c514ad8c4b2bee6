"""Replaying recorded decisions with today's rule policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bus.bus import RedisBus
from consumers.agent.consumer import DecisionAgent
from consumers.agent.replay import history, replay_decisions
from schemas.events import Event
from spamops.settings import Settings
from tests.api.doubles import MemoryRegistry
from tests.consumers.agent import builders as b


async def test_the_agents_own_decisions_replay_identically(
    fake_bus: RedisBus, settings: Settings
) -> None:
    registry = MemoryRegistry(versions_available=[1, 2, 3])
    agent = DecisionAgent(settings, fake_bus, registry=registry)
    await agent.start()
    t0 = datetime.now(UTC)

    async def arrive(event: Event) -> None:
        await fake_bus.publish(event)
        await agent.handle(event)

    await arrive(b.promoted(1, None, at=t0 - timedelta(hours=30)))
    await arrive(b.drift(0.4, at=t0))  # retrain
    await arrive(b.drift(0.5, at=t0))  # cooldown: wait
    await arrive(b.drift(0.12, drifted=True, at=t0))  # mild: wait
    await arrive(b.compared(1, 2, "keep", at=t0))  # start A/B
    await arrive(b.compared(1, 3, "keep", at=t0))  # one A/B at a time: wait
    await arrive(b.abtest_concluded("challenger", at=t0, challenger=2))  # promote v2
    await arrive(b.performance(0.8, version=2, at=datetime.now(UTC)))  # fresh: roll back
    events = await history(fake_bus, t0 - timedelta(days=2))
    replayed = await replay_decisions(events, settings, since=t0 - timedelta(minutes=1))
    actions = [r.recorded.action for r in replayed]
    assert actions == ["retrain", "wait", "wait", "start_abtest", "wait", "promote", "rollback"]
    assert [r.status for r in replayed] == ["same"] * 7
    assert registry.champion == 1  # promoted to 2, then rolled back


async def test_changed_and_unreplayable_decisions_are_reported(
    fake_bus: RedisBus, settings: Settings
) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=3)
    severe, calm = b.drift(0.4, at=t0), b.drift(0.02, at=t0 + timedelta(hours=1))
    lost = uuid.uuid4()  # a trigger trimmed from its stream
    await fake_bus.publish_many(
        [
            b.promoted(1, None, at=t0 - timedelta(days=1)),
            severe,
            b.decision_made("alert", (severe.id,), at=t0 + timedelta(seconds=2)),
            calm,
            b.decision_made("wait", (calm.id,), at=t0 + timedelta(hours=1, seconds=2)),
            b.decision_made("retrain", (lost,), at=t0 + timedelta(hours=2)),
        ]
    )
    events = await history(fake_bus, t0 - timedelta(days=2))
    replayed = await replay_decisions(events, settings, since=t0)
    assert [r.status for r in replayed] == ["differs", "same", "incomplete"]
    differs, _, incomplete = replayed
    assert differs.again is not None and differs.again.action == "retrain"
    assert differs.trigger_type == "drift.measured"
    assert incomplete.missing == (lost,) and incomplete.again is None
    later = await replay_decisions(events, settings, since=t0 + timedelta(minutes=30))
    assert [r.status for r in later] == ["same", "incomplete"]
    bounded = await replay_decisions(events, settings, since=t0, until=t0 + timedelta(minutes=1))
    assert [r.status for r in bounded] == ["differs"]
