"""Issue 7 end to end with real Redis: an A/B test started through the API, traffic with
feedback, the evaluator concludes, the agent promotes the winner, the API reloads it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.security.tokens import issue_token
from bus.bus import RedisBus
from bus.connection import connect
from consumers.abtest import AbTestEvaluator
from consumers.agent.consumer import DecisionAgent
from consumers.runner import as_bus_consumer
from ml.data import load_corpus
from schemas.catalogue import StreamName
from schemas.events import AbTestConcluded, DecisionMade, ModelPromoted
from spamops.settings import AbTestSettings, Settings
from tests.api.doubles import MemoryRegistry
from tests.live_server import serve_in_thread

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WEAK = ("win", "prize")  # v1 misses most spam
STRONG = (
    "win",
    "prize",
    "free",
    "claim",
    "call",
    "txt",
    "mobile",
    "urgent",
    "cash",
    "reply",
    "stop",
    "award",
    "guaranteed",
    "service",
    "tone",
    "£",
    "www",
    "customer",
)


def test_ab_test_concludes_and_the_winner_is_promoted(
    make_settings: Callable[..., Settings], redis_url: str, dataset_path: Path, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        abtest=AbTestSettings(min_samples=150, update_interval_s=0.5, tick_interval_s=0.2),
    )
    registry = MemoryRegistry(words={1: WEAK, 2: STRONG})
    app = create_app(
        settings, redis=lambda: connect(redis_url, settings.bus), registry=lambda: registry
    )
    corpus = load_corpus(dataset_path)
    messages = list(zip(corpus.texts, corpus.labels, strict=True))[:3000]
    token = issue_token(settings.auth, "e2e", "admin")

    async def scenario(url: str) -> tuple[list[Any], list[Any], list[Any], int]:
        bus = RedisBus(connect(redis_url, settings.bus), settings, component="test")
        evaluator = AbTestEvaluator(settings, bus)
        agent = DecisionAgent(settings, bus, registry=registry)
        await evaluator.start()
        await agent.start()
        consumers = [as_bus_consumer(evaluator, bus, "m"), as_bus_consumer(agent, bus, "m")]
        tasks = [asyncio.create_task(c.run()) for c in consumers]

        async def tick() -> None:
            while True:
                await evaluator.tick()
                await asyncio.sleep(0.2)

        tasks.append(asyncio.create_task(tick()))
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
                r = await client.post("/abtests", json={"challenger_version": 2, "split": 0.5})
                assert r.status_code == 202, r.text
                while (await client.get("/ready")).status_code != 200:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)  # the API follows abtest.started
                deadline = time.monotonic() + 120
                i = 0
                while registry.champion != 2:
                    assert time.monotonic() < deadline, "the test did not conclude in time"
                    text, label = messages[i % len(messages)]
                    i += 1
                    p = await client.post(
                        "/predict", json={"message": text, "client_id": f"client-{i}"}
                    )
                    await client.post(
                        "/feedback",
                        json={"prediction_id": p.json()["prediction_id"], "label": label},
                    )
                    if i % 200 == 0:
                        await asyncio.sleep(0.3)  # let the consumers catch up
            page = await bus.read_page(StreamName.ABTESTS, types=["abtest.concluded"])
            decisions = await bus.read_page(StreamName.DECISIONS, types=["decision.made"])
            models = await bus.read_page(StreamName.MODELS, types=["model.promoted"])
            return page.events, decisions.events, models.events, i
        finally:
            for c in consumers:
                c.stop()
            await asyncio.sleep(0.2)
            for t in tasks:
                t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.gather(*tasks)
            async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
                await bus.redis.delete(key)
            await bus.close()

    with serve_in_thread(app) as url:
        concluded, decisions, promoted, sent = asyncio.run(scenario(url))
    (conclusion,) = [s.event for s in concluded]
    assert isinstance(conclusion, AbTestConcluded)
    assert conclusion.payload.winner == "challenger" and conclusion.payload.reason == "significant"
    assert conclusion.payload.p_value <= 0.05 and conclusion.payload.effect < 0
    promote = [
        s.event
        for s in decisions
        if isinstance(s.event, DecisionMade) and s.event.payload.action == "promote"
    ]
    assert promote and conclusion.id in promote[0].payload.input_event_ids
    assert [s.event.payload.version for s in promoted if isinstance(s.event, ModelPromoted)] == [2]
    print(
        f"\nA/B concluded after {sent} labelled requests: effect "
        f"{conclusion.payload.effect:.4f}, p={conclusion.payload.p_value:.2g}"
    )
