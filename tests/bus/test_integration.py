"""The bus against a real Redis: crashes, signals, poison, and a Redis restart."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.bus import RedisBus
from bus.connection import connect
from bus.embedded import EmbeddedRedis
from bus.replies import text
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings
from tests import factories
from tests.bus.helpers import run_until, wait_for

pytestmark = pytest.mark.redis

WORKER = Path(__file__).with_name("consumer_worker.py")


def _worker(url: str, prefix: str, name: str, work_ms: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "--url",
            url,
            "--prefix",
            prefix,
            "--name",
            name,
            "--work-ms",
            str(work_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stderr:
            p.stderr.close()


async def _handled(bus: RedisBus) -> dict[str, int]:
    raw = await bus.redis.hgetall(f"{bus.settings.stream_prefix}handled")
    return {text(k): int(v) for k, v in raw.items()}


async def _pending(bus: RedisBus, group: str = "workers") -> int:
    return int(
        (await bus.redis.xpending(bus.keys.stream(StreamName.PREDICTIONS), group))["pending"]
    )


async def test_kill_9_mid_batch_loses_nothing(
    redis_bus: RedisBus, redis_url: str, workers: list[subprocess.Popen[bytes]]
) -> None:
    events = [factories.prediction(seq=i) for i in range(300)]
    await redis_bus.publish_many(events)
    prefix = redis_bus.settings.stream_prefix
    victim = _worker(redis_url, prefix, "victim", work_ms=5)
    workers.append(victim)
    await wait_for(lambda: _at_least(redis_bus, 30), 15)
    victim.send_signal(signal.SIGKILL)  # mid-batch: it holds read but unacked entries
    victim.wait()
    assert await _pending(redis_bus) > 0, "the kill should have left entries pending"

    workers.append(_worker(redis_url, prefix, "survivor", work_ms=0))
    await wait_for(lambda: _all_done(redis_bus, 300), 30)
    handled = await _handled(redis_bus)
    assert set(handled) == {str(e.id) for e in events}  # none lost
    repeats = sum(handled.values()) - len(events)
    assert repeats <= 20, f"only the in-flight batch may repeat, got {repeats}"
    assert await _pending(redis_bus) == 0


async def test_sigterm_finishes_in_hand_work_and_exits_0(
    redis_bus: RedisBus, redis_url: str, workers: list[subprocess.Popen[bytes]]
) -> None:
    await redis_bus.publish_many([factories.prediction(seq=i) for i in range(200)])
    proc = _worker(redis_url, redis_bus.settings.stream_prefix, "w1", work_ms=20)
    workers.append(proc)
    await wait_for(lambda: _at_least(redis_bus, 5), 15)
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(proc.wait, 20)
    assert code == 0
    assert await _pending(redis_bus) == 0  # everything it had read was finished and acked
    handled = await _handled(redis_bus)
    assert 5 <= len(handled) < 200 and set(handled.values()) == {1}


async def test_failing_handler_dead_letters_and_the_group_keeps_flowing(
    redis_bus: RedisBus,
) -> None:
    events = [factories.retrain() for _ in range(20)]
    poison = events[7].id
    seen: list[Event] = []

    async def handle(event: Event) -> None:
        if event.id == poison:
            raise ValueError("cannot handle this one")
        seen.append(event)

    await redis_bus.publish_many(events)
    c = redis_bus.consumer(group="g", name="c", streams=[StreamName.DECISIONS], handler=handle)
    await run_until(c, lambda: _ready(len(seen) == 19 and c.counters.deadlettered == 1), 15)
    (letter,) = await redis_bus.dead_letters.list()
    assert "ValueError: cannot handle this one" in letter.event.payload.error
    assert letter.event.payload.deliveries == redis_bus.settings.bus.max_deliveries


async def test_malformed_entries_dead_letter_at_once(redis_bus: RedisBus) -> None:
    stream = redis_bus.keys.stream(StreamName.FEEDBACK)
    await redis_bus.redis.xadd(stream, {"event": b"\xff\xfe not utf8 {"})
    await redis_bus.redis.xadd(stream, {"event": b'{"type": "unknown.kind", "payload": {}}'})
    await redis_bus.redis.xadd(stream, {"event": b'{"type": "feedback.received"}'})
    good = factories.feedback()
    await redis_bus.publish(good)
    seen: list[Event] = []

    async def handle(event: Event) -> None:
        seen.append(event)

    c = redis_bus.consumer(group="g", name="c", streams=[StreamName.FEEDBACK], handler=handle)
    await run_until(c, lambda: _ready(len(seen) == 1 and c.counters.deadlettered == 3), 10)
    assert seen[0].id == good.id and c.counters.failed == 0


async def test_redis_restart_spools_then_everything_is_consumed(
    make_settings: object, tmp_path: Path
) -> None:
    """Stop the server during publishing; the publisher spools; after the restart (without
    persistence, so the group is gone too) the consumer re-creates its group and every event
    published reaches it."""
    server = EmbeddedRedis(tmp_path / "redis", persistence="none").start()
    settings: Settings = make_settings()  # type: ignore[operator]
    bus = RedisBus(connect(server.url, settings.bus), settings)
    received: set[str] = set()

    async def handle(event: Event) -> None:
        received.add(str(event.id))

    consumer = bus.consumer(group="g", name="c", streams=[StreamName.PREDICTIONS], handler=handle)
    consumer_task = asyncio.create_task(consumer.run())
    publisher = bus.buffered()
    await publisher.start()
    events = [factories.prediction(seq=i) for i in range(600)]
    try:
        for e in events[:200]:
            publisher.enqueue(e)
        await wait_for(lambda: _ready(len(received) == 200), 10)
        server.stop()
        for e in events[200:400]:
            publisher.enqueue(e)
            await asyncio.sleep(0.001)
        await wait_for(lambda: _ready(publisher.stats.spooling), 10)
        server.start()  # same port, empty: no persistence
        for e in events[400:]:
            publisher.enqueue(e)
        await wait_for(lambda: _ready(received == {str(e.id) for e in events}), 20)
        assert consumer.counters.group_recreated >= 1
        assert publisher.stats.dropped == 0 and publisher.stats.spooled >= 1
    finally:
        consumer.stop()
        await publisher.close(timeout_s=2)
        await asyncio.wait_for(consumer_task, 10)
        await bus.close()
        server.stop()


async def _at_least(bus: RedisBus, n: int) -> bool:
    return len(await _handled(bus)) >= n


async def _all_done(bus: RedisBus, n: int) -> bool:
    return len(await _handled(bus)) >= n and await _pending(bus) == 0


async def _ready(value: bool) -> bool:
    return value
