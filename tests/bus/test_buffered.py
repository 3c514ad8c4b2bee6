from __future__ import annotations

import asyncio
import time

from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from bus.bus import RedisBus
from bus.codec import decode_fields
from bus.publisher import Publisher
from bus.replies import entries
from schemas.catalogue import StreamName, catalogue
from spamops.settings import Settings
from tests import factories
from tests.bus.helpers import wait_for


async def _stream_ids(bus: RedisBus) -> list[str]:
    rows = entries(await bus.redis.xrange(bus.keys.stream(StreamName.PREDICTIONS)))
    return [str(decode_fields(f).id) for _, f in rows]


async def test_enqueue_publishes_in_the_background(fake_bus: RedisBus) -> None:
    publisher = fake_bus.buffered()
    await publisher.start()
    events = [factories.prediction(seq=i) for i in range(1200)]
    for e in events:
        publisher.enqueue(e)
    await publisher.close()
    assert await _stream_ids(fake_bus) == [str(e.id) for e in events]
    assert publisher.stats.published == 1200
    assert publisher.stats.dropped == 0 and not publisher.stats.spooling


async def test_enqueue_never_raises_and_spools_while_redis_is_down(settings: Settings) -> None:
    """Events enqueued during an outage are spooled, then published in order on recovery."""
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bus = RedisBus(down, settings)
    publisher = bus.buffered()
    await publisher.start()
    events = [factories.prediction(seq=i) for i in range(300)]
    started = time.perf_counter()
    for e in events[:150]:
        publisher.enqueue(e)
    assert time.perf_counter() - started < 0.5  # the caller never waited on Redis
    await wait_for(lambda: _true(publisher.stats.spooled == 150), 5)
    assert publisher.stats.spooling
    assert settings.spool_file.stat().st_size > 0

    # Redis comes back: swap in a reachable server for the same publisher.
    healthy = FakeAsyncRedis()
    publisher._publisher = Publisher(healthy, bus.keys, catalogue(settings))
    for e in events[150:]:
        publisher.enqueue(e)
    await wait_for(lambda: _true(not publisher.stats.spooling), 5)
    await publisher.close()
    rows = entries(await healthy.xrange(bus.keys.stream(StreamName.PREDICTIONS)))
    assert [decode_fields(f).id for _, f in rows] == [e.id for e in events]
    assert not settings.spool_file.exists()
    await down.aclose()


async def test_spool_left_by_a_crash_is_published_at_start(settings: Settings) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    crashed = RedisBus(down, settings).buffered()
    await crashed.start()
    events = [factories.prediction(seq=i) for i in range(20)]
    for e in events:
        crashed.enqueue(e)
    await crashed.close(timeout_s=2)
    assert settings.spool_file.exists()

    bus = RedisBus(FakeAsyncRedis(), settings)
    restarted = bus.buffered()
    assert restarted.stats.spooling
    await restarted.start()
    await wait_for(lambda: _true(not restarted.stats.spooling), 5)
    await restarted.close()
    assert await _stream_ids(bus) == [str(e.id) for e in events]
    await down.aclose()


async def test_queue_overflow_moves_the_queue_to_the_spool(make_settings: object) -> None:
    from spamops.settings import BusSettings

    settings: Settings = make_settings(bus=BusSettings(queue_size=10))  # type: ignore[operator]
    bus = RedisBus(FakeAsyncRedis(), settings)
    publisher = bus.buffered()
    await publisher.start()
    events = [factories.prediction(seq=i) for i in range(35)]
    for e in events:  # no await: the drain task cannot run, so the queue overflows
        publisher.enqueue(e)
    assert publisher.stats.spooled >= 30 and publisher.stats.dropped == 0
    await publisher.close()
    assert sorted(await _stream_ids(bus)) == sorted(str(e.id) for e in events)


async def test_enqueue_from_another_thread(fake_bus: RedisBus) -> None:
    publisher = fake_bus.buffered()
    await publisher.start()
    events = [factories.prediction(seq=i) for i in range(10)]

    def from_thread() -> None:
        for e in events:
            publisher.enqueue(e)

    await asyncio.to_thread(from_thread)
    await wait_for(lambda: _true(publisher.stats.published == 10), 5)
    await publisher.close()


async def test_an_unencodable_event_is_counted_not_raised(fake_bus: RedisBus) -> None:
    publisher = fake_bus.buffered()
    await publisher.start()
    publisher.enqueue("not an event")  # type: ignore[arg-type]
    publisher.enqueue(factories.prediction())
    await publisher.close()
    assert publisher.stats.dropped == 1 and publisher.stats.published == 1


async def _true(value: bool) -> bool:
    return value
