"""Count- and time-bounded windows kept in Redis, shared by every member of a group.

Members of a consumer group each see a share of the entries, so a window cannot live in
one member's memory. Items are pushed to a Redis list per window key; a Lua script takes
exactly `size` items atomically (or fewer, for a window that has aged past `max_age_s`),
so each window is closed by exactly one member.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from bus.replies import text

__all__ = ["ClosedWindow", "RedisWindows"]

_TAKE = """
local n = redis.call('LLEN', KEYS[1])
local now = tonumber(ARGV[2])
local started = tonumber(redis.call('GET', KEYS[2]) or ARGV[2])
local size = tonumber(ARGV[1])
local take = 0
if n >= size then
  take = size
elseif tonumber(ARGV[3]) == 1 and n >= tonumber(ARGV[4]) and now - started >= tonumber(ARGV[5]) then
  take = n
end
if take == 0 then return false end
local items = redis.call('LRANGE', KEYS[1], 0, take - 1)
redis.call('LTRIM', KEYS[1], take, -1)
if n - take > 0 then redis.call('SET', KEYS[2], ARGV[2]) else redis.call('DEL', KEYS[2]) end
return {tostring(started), items}
"""


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    key: str
    items: list[bytes]
    started_at: datetime
    ended_at: datetime


class RedisWindows:
    def __init__(
        self, redis: Redis, prefix: str, *, size: int, min_size: int, max_age_s: float
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.size = size
        self.min_size = min(min_size, size)
        self.max_age_ms = int(max_age_s * 1000)
        self._take = redis.register_script(_TAKE)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}{key}:items", f"{self.prefix}{key}:started"]

    async def add(self, key: str, items: Sequence[bytes]) -> list[ClosedWindow]:
        """Append items to window `key`; return every window this completed."""
        if not items:
            return []
        now_ms = int(time.time() * 1000)
        list_key, started_key = self._keys(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(list_key, *items)
            pipe.set(started_key, now_ms, nx=True)
            pipe.sadd(f"{self.prefix}index", key)
            await pipe.execute()
        return await self._take_all(key, now_ms, force=False)

    async def close_stale(self) -> list[ClosedWindow]:
        """Close every window older than `max_age_s` that holds at least `min_size` items."""
        now_ms = int(time.time() * 1000)
        closed: list[ClosedWindow] = []
        for raw in await self.redis.smembers(f"{self.prefix}index"):
            closed += await self._take_all(text(raw), now_ms, force=True)
        return closed

    async def pending(self, key: str) -> int:
        return int(await self.redis.llen(self._keys(key)[0]))

    async def _take_all(self, key: str, now_ms: int, *, force: bool) -> list[ClosedWindow]:
        closed: list[ClosedWindow] = []
        while True:
            reply = await self._take(
                keys=self._keys(key),
                args=[self.size, now_ms, int(force), self.min_size, self.max_age_ms],
            )
            if not reply:
                return closed
            started_ms, items = int(reply[0]), list(reply[1])
            closed.append(
                ClosedWindow(
                    key=key,
                    items=items,
                    started_at=datetime.fromtimestamp(started_ms / 1000, UTC),
                    ended_at=datetime.fromtimestamp(now_ms / 1000, UTC),
                )
            )
            force = False  # an aged window closes once; what is left starts a new one
