from __future__ import annotations

import asyncio

import pytest
from fakeredis import FakeAsyncRedis

from consumers.windows import RedisWindows


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
