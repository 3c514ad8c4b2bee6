"""Trigger reliability: every scheduled slot and every drift onset yields exactly one
retraining — no misses, no duplicates — on real Redis.

Two scheduler replicas fire each cron slot; each drift onset is three consecutive drifted
windows (the later two within the cooldown), and some events are delivered twice. The
real agent (rule policy, guards) and two retrainer replicas (the real lock, idempotency and
checkpoints; training replaced by a counter) consume them. Triggers are spaced beyond the
cooldown, as the guard requires. The seed asks > 90%; the target is 100%.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import bench_redis, machine, parse_args, write_result
from bus.bus import RedisBus
from bus.connection import connect
from bus.replies import text
from consumers.agent.consumer import DecisionAgent
from consumers.retrainer import Retrainer
from consumers.runner import as_bus_consumer
from producers.scheduler import RetrainScheduler
from schemas.catalogue import StreamName
from schemas.events import RetrainRequested
from spamops.settings import RetrainSettings, Settings


class CountingRetrainer(Retrainer):
    """The retrainer's delivery logic with training replaced by a counter."""

    async def start(self) -> None:
        return None

    async def _run(self, event: RetrainRequested, key: str, progress: dict[Any, str]) -> str:
        await self.bus.redis.rpush(self.bus.keys.state("bench:runs"), str(event.id))
        await asyncio.sleep(0.05)  # a retraining takes time; a duplicate would overlap it
        await self.bus.redis.hset(key, "done", "1")
        return "kept"


async def run(url: str, slots: int, onsets: int, cooldown_s: float) -> dict[str, Any]:
    from tests.consumers.agent import builders as b

    prefix = f"spamops-bench-triggers:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            env="test",
            stream_prefix=prefix,
            data_dir=Path(tmp),
            retrain=RetrainSettings(
                cooldown_s=cooldown_s, max_per_day=10_000, schedule_cron="* * * * * *"
            ),
        )
        bus = RedisBus(connect(url, settings.bus), settings, component="bench")
        agent = DecisionAgent(settings, bus)
        await agent.start()
        workers = [as_bus_consumer(agent, bus, "agent-1")] + [
            as_bus_consumer(CountingRetrainer(settings, bus), bus, f"retrainer-{i}")
            for i in range(2)
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        publishers = [bus.buffered() for _ in range(2)]
        for p in publishers:
            await p.start()
        schedulers = [RetrainScheduler(settings, bus, p) for p in publishers]
        expected = 0
        try:
            pairs = zip(["schedule"] * slots, ["drift"] * onsets, strict=True)
            plan = [kind for pair in pairs for kind in pair]  # alternate the two kinds
            for kind in plan:
                if kind == "schedule":
                    await asyncio.gather(*(s.fire() for s in schedulers))  # both replicas
                else:
                    first = b.drift(0.5, at=datetime.now(UTC))
                    await bus.publish(first)
                    await bus.publish(first)  # a redelivered duplicate
                    for _ in range(2):  # the onset goes on, inside the cooldown
                        await bus.publish(b.drift(0.6, at=datetime.now(UTC)))
                expected += 1
                await asyncio.sleep(cooldown_s * 1.5 + 1.05)  # next trigger: new slot, cooled
            await asyncio.sleep(1.0)
            runs = [text(x) for x in await bus.redis.lrange(bus.keys.state("bench:runs"), 0, -1)]
            requests = (
                await bus.read_page(
                    StreamName.DECISIONS, types=["retrain.requested"], limit=100_000
                )
            ).events
        finally:
            for w in workers:
                w.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            for p in publishers:
                await p.close()
            async for key in bus.redis.scan_iter(match=f"{prefix}*"):
                await bus.redis.delete(key)
            await bus.close()
    duplicates = len(runs) - len(set(runs))
    reasons: dict[str, int] = {}
    for item in requests:
        reason = item.event.payload.reason  # type: ignore[union-attr]
        reasons[reason] = reasons.get(reason, 0) + 1
    exactly_once = min(len(set(runs)), expected) - max(0, len(runs) - expected)
    return {
        "triggers": expected,
        "retrain_requests": len(requests),
        "requests_by_reason": reasons,
        "retrainings": len(runs),
        "duplicate_retrainings": duplicates,
        "reliability": round(max(exactly_once, 0) / expected, 4),
        "target": 1.0,
    }


def main() -> None:
    args = parse_args(__doc__ or "")
    slots, onsets, cooldown = (4, 4, 0.5) if args.quick else (15, 15, 1.0)
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        started = time.perf_counter()
        result = asyncio.run(run(url, slots, onsets, cooldown))
    result |= {
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "quick": args.quick,
    }
    for key in (
        "triggers",
        "retrain_requests",
        "requests_by_reason",
        "retrainings",
        "duplicate_retrainings",
        "reliability",
        "seconds",
    ):
        print(f"{key:<22} {result[key]}")
    write_result("triggers", result)


if __name__ == "__main__":
    main()
