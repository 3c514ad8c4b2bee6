"""The consumer host: builds named consumers, runs them, closes them."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest

from bus.bus import RedisBus
from consumers import runner
from consumers.base import EventConsumer
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings
from tests import factories


class Collecting(EventConsumer):
    group: ClassVar[str] = "collecting"
    streams = (StreamName.DECISIONS,)
    event_types = frozenset({"retrain.requested"})
    instances: ClassVar[list[Collecting]] = []

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.closed = False
        Collecting.instances.append(self)

    async def handle(self, event: Event) -> None:
        self.seen.append(event)

    async def close(self) -> None:
        self.closed = True


def make_collecting(settings: Settings, bus: RedisBus) -> EventConsumer:
    return Collecting()


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(runner.CONSUMER_FACTORIES, "collecting", f"{__name__}:make_collecting")
    Collecting.instances.clear()


async def test_serve_runs_until_stopped_and_closes(
    fake_bus: RedisBus, settings: Settings, registered: None
) -> None:
    await fake_bus.publish_many([factories.retrain(), factories.retrain()])
    task = asyncio.create_task(runner.serve(settings, fake_bus, ["collecting"], "m1"))
    while not Collecting.instances or len(Collecting.instances[0].seen) < 2:
        await asyncio.sleep(0.02)
    import os
    import signal

    os.kill(os.getpid(), signal.SIGTERM)  # the runner's handler drains instead of dying
    assert await asyncio.wait_for(task, 5) == 0
    assert Collecting.instances[0].closed


def test_unknown_names_are_a_clear_error(settings: Settings, fake_bus: RedisBus) -> None:
    with pytest.raises(runner.UnknownConsumerError, match="no consumer named 'nope'"):
        runner.build("nope", settings, fake_bus)
