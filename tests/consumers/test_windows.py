from __future__ import annotations

import asyncio

import pytest
from fakeredis import FakeAsyncRedis

from bus.bus import RedisBus
from bus.codec import decode_fields
from bus.idempotency import DoneMarks
from consumers.windows import ClosedWindow, RedisWindows
from schemas.catalogue import StreamName
from schemas.events import AlertRaised
from schemas.operations import Alert


async def test_windows_close_at_size_exactly_once() -> None:
    redis = FakeAsyncRedis()
    w = RedisWindows(redis, "t:", size=5, min_size=2, max_age_s=60)
    assert await w.add("k", [b"1", b"2", b"3"]) == []
    closed = await w.add("k", [b"4", b"5", b"6", b"7", b"8", b"9", b"10", b"11"])
    assert [c.items for c in closed] == [
        [b"1", b"2", b"3", b"4", b"5"],
        [b"6", b"7", b"8", b"9", b"10"],
    ]
    assert await w.pending("k") == 1
    assert closed[0].started_at <= closed[0].ended_at


async def test_concurrent_adders_never_share_an_item() -> None:
    redis = FakeAsyncRedis()
    w = RedisWindows(redis, "t:", size=10, min_size=1, max_age_s=60)
    results = await asyncio.gather(
        *(w.add("k", [f"{i}-{j}".encode() for j in range(7)]) for i in range(20))
    )
    items = [item for closed in results for window in closed for item in window.items]
    assert len(items) == len(set(items)) == 140 and all(
        len(window.items) == 10 for closed in results for window in closed
    )


@pytest.mark.parametrize(("max_age", "expected"), [(0.0, 1), (3600.0, 0)])
async def test_aged_windows_close_if_big_enough(max_age: float, expected: int) -> None:
    redis = FakeAsyncRedis()
    w = RedisWindows(redis, "t:", size=100, min_size=3, max_age_s=max_age)
    await w.add("big", [b"a", b"b", b"c"])
    await w.add("small", [b"x"])
    closed = await w.close_stale()
    assert len(closed) == expected
    if expected:
        assert closed[0].key == "big" and len(closed[0].items) == 3
        assert await w.pending("small") == 1


def _windows(bus: RedisBus, size: int, lease_s: float = 60.0) -> RedisWindows:
    marks = DoneMarks(bus.redis, bus.keys, "drift", ttl_s=3600)
    return RedisWindows(
        bus.redis,
        bus.keys.prefix + "w:",
        size=size,
        min_size=1,
        max_age_s=3600,
        marks=marks,
        publisher=bus.publisher,
        lease_s=lease_s,
    )


def _alert(window: ClosedWindow) -> AlertRaised:
    return AlertRaised(
        source="test",
        payload=Alert(
            severity="info",
            title=f"window of {len(window.items)}",
            body=b",".join(window.items).decode(),
            dedupe_key=window.key,
        ),
    )


async def _published(bus: RedisBus) -> list[AlertRaised]:
    entries = await bus.redis.xrange(bus.keys.stream(StreamName.ALERTS))
    events = [decode_fields(fields or {}) for _, fields in entries or []]
    return [e for e in events if isinstance(e, AlertRaised)]


async def test_a_redelivered_event_is_pushed_once(fake_bus: RedisBus) -> None:
    w = _windows(fake_bus, size=4)
    await w.add("k", [b"a", b"b"], event_ids=["e1", "e2"])
    # A member died after pushing and before acknowledging: the same events come again.
    await w.add("k", [b"a", b"b"], event_ids=["e1", "e2"])
    assert await w.pending("k") == 2
    marks = DoneMarks(fake_bus.redis, fake_bus.keys, "drift", ttl_s=3600)
    assert await marks.seen(["e1", "e2", "e3"]) == [True, True, False]
    with pytest.raises(ValueError, match="one to one"):
        await w.add("k", [b"c"], event_ids=["e3", "e4"])


async def test_closing_publishes_the_measurement_in_the_same_step(fake_bus: RedisBus) -> None:
    w = _windows(fake_bus, size=3)
    closed = await w.add("k", [b"1", b"2", b"3", b"4"], event_ids=list("abcd"), measure=_measure)
    assert [c.items for c in closed] == [[b"1", b"2", b"3"]]
    assert [a.payload.body for a in await _published(fake_bus)] == ["1,2,3"]
    assert await w.pending("k") == 1


async def _measure(window: ClosedWindow) -> AlertRaised:
    return _alert(window)


async def test_a_member_that_dies_measuring_loses_no_window(fake_bus: RedisBus) -> None:
    w = _windows(fake_bus, size=3, lease_s=0.05)

    async def crash(window: ClosedWindow) -> AlertRaised:
        raise RuntimeError("killed while measuring")

    with pytest.raises(RuntimeError):
        await w.add("k", [b"1", b"2", b"3"], event_ids=list("abc"), measure=crash)
    assert await w.pending("k") == 3 and await _published(fake_bus) == []
    # The next member to add or tick closes it, once.
    closed = await w.add("k", [b"4"], event_ids=["d"], measure=_measure)
    assert [c.items for c in closed] == [[b"1", b"2", b"3"]]
    assert [a.payload.body for a in await _published(fake_bus)] == ["1,2,3"]


async def test_a_window_leased_by_a_live_member_is_not_closed_twice(fake_bus: RedisBus) -> None:
    w = _windows(fake_bus, size=2)
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(window: ClosedWindow) -> AlertRaised:
        started.set()
        await release.wait()
        return _alert(window)

    first = asyncio.create_task(w.add("k", [b"1", b"2"], event_ids=["a", "b"], measure=slow))
    await started.wait()
    assert await w.close_stale(measure=_measure) == []  # leased: nobody else may close it
    release.set()
    assert [c.items for c in await first] == [[b"1", b"2"]]
    assert len(await _published(fake_bus)) == 1
