"""The API as a real process: hot reload under load, a Redis outage, MLflow down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from redis import Redis as SyncRedis

from bus.embedded import EmbeddedRedis
from ml.registry import ModelRegistry
from producers.scenarios import campaign_messages
from tests.integration.conftest import ApiProcess, ModelStore, admin_headers

pytestmark = [pytest.mark.redis, pytest.mark.mlflow, pytest.mark.slow]

MESSAGES = [m.text for m in campaign_messages(40, seed=21)] + [
    "Are we still on for lunch tomorrow?",
    "WINNER!! claim your prize now, call 09061701461",
]


def _stream_length(api: ApiProcess, redis_url: str, stream: str) -> int:
    return int(SyncRedis.from_url(redis_url).xlen(f"{api.env['SPAMOPS_STREAM_PREFIX']}{stream}"))


async def _hammer(url: str, stop: asyncio.Event, seen: list[dict[str, object]]) -> int:
    failures = 0
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=admin_headers()) as client:
        i = 0
        while not stop.is_set():
            text = MESSAGES[i % len(MESSAGES)]
            i += 1
            r = await client.post("/predict", json={"message": text})
            if r.status_code != 200:
                failures += 1
                continue
            seen.append({"text": text, **r.json()})
    return failures


def test_hot_reload_under_load_fails_nothing_and_never_mixes_models(
    model_store: ModelStore, redis_server: EmbeddedRedis, start_api: Callable[..., ApiProcess]
) -> None:
    registry = ModelRegistry(model_store.settings)
    expected = {v: {t: registry.load_version(v).score(t) for t in MESSAGES} for v in (1, 2)}
    api = start_api(redis_server.url)
    assert api.get("/ready").json()["model"]["version"] == 1

    async def scenario() -> tuple[int, list[dict[str, object]]]:
        stop = asyncio.Event()
        seen: list[dict[str, object]] = []
        workers = [asyncio.create_task(_hammer(api.url, stop, seen)) for _ in range(8)]
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(
            base_url=api.url, timeout=30, headers=admin_headers()
        ) as client:
            r = await client.post("/models/2/promote")
            assert r.status_code == 200, r.text
            deadline = time.monotonic() + 60
            while (await client.get("/ready")).json()["model"]["version"] != 2:
                assert time.monotonic() < deadline, "no hot reload"
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        stop.set()
        return sum(await asyncio.gather(*workers)), seen

    failures, seen = asyncio.run(scenario())
    assert failures == 0
    versions = [int(s["model"]["version"]) for s in seen]  # type: ignore[index]
    assert versions[0] == 1 and versions[-1] == 2 and {1, 2} == set(versions)
    for s in seen:
        version = int(s["model"]["version"])  # type: ignore[index]
        assert s["spam_probability"] == pytest.approx(expected[version][str(s["text"])], abs=1e-12)
    registry.promote(1)  # leave the shared store as the next test expects it


def test_redis_outage_keeps_answering_and_loses_no_event(
    redis_server: EmbeddedRedis, start_api: Callable[..., ApiProcess]
) -> None:
    api = start_api(redis_server.url)

    def send(n: int) -> list[float]:
        latencies = []
        with api.client() as client:
            for i in range(n):
                t = time.perf_counter()
                r = client.post("/predict", json={"message": MESSAGES[i % len(MESSAGES)]})
                latencies.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
        return sorted(latencies)

    up = send(200)
    redis_server.stop()
    down = send(200)
    ready = api.get("/ready").json()
    assert ready["status"] == "degraded" and ready["bus"] == "spooling"
    assert down[int(len(down) * 0.99)] < max(5 * up[int(len(up) * 0.99)], 25.0)
    redis_server.start()
    deadline = time.monotonic() + 30
    while _stream_length(api, redis_server.url, "predictions") < 400:
        assert time.monotonic() < deadline, "spooled events were not re-published"
        time.sleep(0.1)
    assert _stream_length(api, redis_server.url, "predictions") == 400
    assert api.get("/ready").json()["bus"] == "connected"


def test_mlflow_down_at_start_serves_the_cached_model_degraded(
    model_store: ModelStore,
    redis_server: EmbeddedRedis,
    start_api: Callable[..., ApiProcess],
    tmp_path: Path,
) -> None:
    ModelRegistry(model_store.settings).load("champion")  # the cache holds the champion
    api = start_api(
        redis_server.url,
        SPAMOPS_MLFLOW_TRACKING_URI="http://127.0.0.1:9/",
        SPAMOPS_MODEL__REGISTRY_TIMEOUT_S="2",
    )
    ready = api.get("/ready").json()
    assert ready["status"] == "degraded" and ready["model_source"] == "cache"
    with api.client() as client:
        r = client.post("/predict", json={"message": "hello"})
    assert r.status_code == 200 and r.json()["model"]["version"] == 1
    assert api.started_s < 20


def test_metrics_add_up_across_workers(
    redis_server: EmbeddedRedis, start_api: Callable[..., ApiProcess]
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    api = start_api(redis_server.url, workers=2)
    with api.client() as client:
        for i in range(60):  # uvicorn spreads connections over both workers
            with httpx.Client(base_url=api.url, headers=admin_headers()) as fresh:
                assert fresh.post("/predict", json={"message": f"hello {i}"}).status_code == 200
        text = client.get("/metrics").text
    total = sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "spamops_predictions_total"
    )
    assert total == 60
    pids = {line for line in text.splitlines() if 'pid="' in line}
    assert pids, "model info should be reported per worker process (liveall)"
