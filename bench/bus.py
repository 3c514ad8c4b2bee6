"""Bus throughput and latency, each figure beside the raw redis-py figure of the same run.

Measures: single XADD latency; raw pipelined XADD ×100; raw XREADGROUP ×100 + json + XACK;
our BufferedPublisher (enqueue → published, pydantic serialisation included); our Consumer
(XREADGROUP, pydantic validation, dedupe marks and XACK in one MULTI); `enqueue` latency.
Targets: buffered ≥ 20k/s, consumer ≥ 15k/s, enqueue p99 ≤ 20 µs.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/bus.py`: this file would shadow `bus`
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import asyncio
import contextlib
import tempfile
import time
import uuid
from typing import Any

import orjson
from redis.asyncio import Redis

from bench.harness import (
    bench_redis,
    machine,
    parse_args,
    percentile,
    write_result,
)
from bus.bus import RedisBus
from bus.codec import encode_event
from bus.connection import connect
from bus.replies import stream_entries
from schemas.catalogue import StreamName
from schemas.events import Event, PredictionMade
from spamops.settings import BusSettings, Settings
from tests import factories


def _events(n: int) -> list[PredictionMade]:
    return [factories.prediction(f"message number {i} win cash now", seq=i) for i in range(n)]


async def raw_single_xadd_us(redis: Redis, stream: str, fields: Any, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        await redis.xadd(stream, fields)
        samples.append((time.perf_counter_ns() - t) / 1000)
    return percentile(samples, 50)


async def raw_pipelined_per_s(redis: Redis, stream: str, records: list[Any]) -> float:
    t = time.perf_counter()
    for i in range(0, len(records), 100):
        async with redis.pipeline(transaction=False) as pipe:
            for fields in records[i : i + 100]:
                pipe.xadd(stream, fields)
            await pipe.execute()
    return len(records) / (time.perf_counter() - t)


async def raw_readgroup_per_s(redis: Redis, stream: str, n: int) -> float:
    await redis.xgroup_create(stream, "raw", id="0")
    done = 0
    t = time.perf_counter()
    while done < n:
        reply = await redis.xreadgroup("raw", "c", {stream: ">"}, count=100)
        for _, rows in stream_entries(reply):
            ids = [eid for eid, fields in rows if orjson.loads(fields[b"event"])]
            await redis.xack(stream, "raw", *ids)
            done += len(ids)
    return n / (time.perf_counter() - t)


async def buffered_per_s(bus: RedisBus, events: list[PredictionMade]) -> tuple[float, list[float]]:
    publisher = bus.buffered()
    await publisher.start()
    enqueue_ns: list[float] = []
    t = time.perf_counter()
    for i, event in enumerate(events):
        s = time.perf_counter_ns()
        publisher.enqueue(event)
        enqueue_ns.append(time.perf_counter_ns() - s)
        if i % 200 == 0:
            await asyncio.sleep(0)  # like a server between requests: the drain task runs
    await publisher.close(timeout_s=120)
    rate = len(events) / (time.perf_counter() - t)
    assert publisher.stats.published == len(events), publisher.stats
    return rate, [ns / 1000 for ns in enqueue_ns]


async def consume_per_s(bus: RedisBus, n: int) -> float:
    handled = 0
    all_done = asyncio.Event()

    async def handle(event: Event) -> None:
        nonlocal handled
        handled += 1
        if handled == n:
            all_done.set()

    consumer = bus.consumer(
        group="bench", name="c", streams=[StreamName.PREDICTIONS], handler=handle
    )
    task = asyncio.create_task(consumer.run())
    t = time.perf_counter()
    await all_done.wait()
    rate = n / (time.perf_counter() - t)
    consumer.stop()
    await task
    return rate


async def run(url: str, n: int) -> dict[str, Any]:
    prefix = f"spamops-bench:{uuid.uuid4().hex[:8]}:"
    bus_settings = BusSettings(read_count=500, batch_size=500, block_ms=100)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, env="test", stream_prefix=prefix, data_dir=Path(tmp), bus=bus_settings
        )
        redis = connect(url, bus_settings)
        bus = RedisBus(redis, settings, component="bench")
        try:
            info = await redis.info("server")
            events = _events(n)
            records = [encode_event(e) for e in events]
            raw_stream = f"{prefix}raw"
            single = await raw_single_xadd_us(redis, f"{prefix}single", records[0], min(n, 2000))
            raw_pub = await raw_pipelined_per_s(redis, raw_stream, records)
            raw_read = await raw_readgroup_per_s(redis, raw_stream, n)
            buffered, enqueue_us = await buffered_per_s(bus, events)
            consumed = await consume_per_s(bus, n)
        finally:
            async for key in redis.scan_iter(match=f"{prefix}*"):
                await redis.delete(key)
            await bus.close()
    return {
        "events": n,
        "redis_version": info.get("redis_version"),
        "raw_single_xadd_p50_us": round(single, 1),
        "raw_pipelined_per_s": round(raw_pub),
        "raw_readgroup_per_s": round(raw_read),
        "buffered_publish_per_s": round(buffered),
        "consume_per_s": round(consumed),
        "enqueue_p50_us": round(percentile(enqueue_us, 50), 2),
        "enqueue_p99_us": round(percentile(enqueue_us, 99), 2),
        "buffered_vs_raw_pipelined": round(buffered / raw_pub, 3),
        "consume_vs_raw_readgroup": round(consumed / raw_read, 3),
        "targets": {
            "buffered_publish_per_s": 20_000,
            "consume_per_s": 15_000,
            "enqueue_p99_us": 20,
        },
    }


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 20_000 if args.quick else 100_000
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        result = asyncio.run(run(url, n))
    result["machine"] = machine()
    result["quick"] = args.quick
    width = max(len(k) for k in result)
    for key, value in result.items():
        if key not in ("machine", "targets"):
            print(f"{key:<{width}}  {value}")
    ok = (
        result["buffered_publish_per_s"] >= 20_000
        and result["consume_per_s"] >= 15_000
        and result["enqueue_p99_us"] <= 20
    )
    print(f"targets {'met' if ok else 'NOT met'}: {result['targets']}")
    write_result("bus", result)


if __name__ == "__main__":
    main()
