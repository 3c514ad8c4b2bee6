"""Count- and time-bounded windows kept in Redis, shared by every member of a group.

Members of a consumer group each see a share of the entries, so a window cannot live in
one member's memory. Items are pushed to a Redis list per window key; a window is closed
by exactly one member, and closing survives a crash of that member:

- **adding is idempotent on event id.** With the group's `DoneMarks`, one Lua script pushes
  the item of an event only if the event is not marked done yet, and marks it done in the
  same step. A member killed after pushing and before acknowledging therefore pushes
  nothing when the event is redelivered (the bus sees the mark and skips the handler), so
  no prediction lands in two windows.
- **closing is atomic with its measurement.** A script *leases* the first `size` items (or
  fewer, for a window that has aged past `max_age_s`) without removing them; the caller
  measures them; a second script removes exactly those items and XADDs the measurement
  event in one step, if the lease is still its own. A member killed while measuring leaves
  the items in place; its lease expires after `lease_s` and the next `add` or `tick` of any
  member closes the window. No window is lost, none is published twice.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from bus.idempotency import DoneMarks
from bus.publisher import Publisher
from bus.replies import text
from schemas.envelope import Envelope

__all__ = ["ClosedWindow", "Measure", "RedisWindows"]

_ADD = """
local n = tonumber(ARGV[2])
local pushed = 0
for i = 1, n do
  local id = ARGV[3 + i]
  local fresh = true
  if id ~= '' then
    for k = 4, #KEYS do
      if redis.call('SISMEMBER', KEYS[k], id) == 1 then fresh = false break end
    end
    if fresh and #KEYS >= 4 then redis.call('SADD', KEYS[4], id) end
  end
  if fresh then
    redis.call('RPUSH', KEYS[1], ARGV[3 + n + i])
    pushed = pushed + 1
  end
end
if #KEYS >= 4 then redis.call('EXPIRE', KEYS[4], tonumber(ARGV[3])) end
if pushed > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'NX')
  redis.call('SADD', KEYS[3], ARGV[4 + 2 * n])
end
return pushed
"""

_LEASE = """
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
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
redis.call('SET', KEYS[3], ARGV[6], 'PX', tonumber(ARGV[7]))
return {tostring(started), redis.call('LRANGE', KEYS[1], 0, take - 1)}
"""

_COMMIT = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
if redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('SET', KEYS[2], ARGV[3])
else
  redis.call('DEL', KEYS[2])
end
if #ARGV > 5 then
  if ARGV[4] == '' then
    redis.call('XADD', KEYS[4], '*', unpack(ARGV, 6))
  else
    redis.call('XADD', KEYS[4], ARGV[4], '~', ARGV[5], '*', unpack(ARGV, 6))
  end
end
redis.call('DEL', KEYS[3])
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    key: str
    items: list[bytes]
    started_at: datetime
    ended_at: datetime


Measure = Callable[[ClosedWindow], Awaitable[Envelope | None]]
"""Turns a closing window into the event that reports it (None: nothing to report)."""


class RedisWindows:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        size: int,
        min_size: int,
        max_age_s: float,
        marks: DoneMarks | None = None,
        publisher: Publisher | None = None,
        lease_s: float = 60.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.size = size
        self.min_size = min(min_size, size)
        self.max_age_ms = int(max_age_s * 1000)
        self.marks = marks
        """The group's done-marks: with them, `add` pushes each event's item at most once."""
        self.publisher = publisher
        """Needed to publish what `measure` returns in the step that closes the window."""
        self.lease_ms = max(int(lease_s * 1000), 1)
        self._add = redis.register_script(_ADD)
        self._lease = redis.register_script(_LEASE)
        self._commit = redis.register_script(_COMMIT)
        self._release = redis.register_script(_RELEASE)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}{key}:items", f"{self.prefix}{key}:started"]

    def _lease_key(self, key: str) -> str:
        return f"{self.prefix}{key}:closing"

    async def add(
        self,
        key: str,
        items: Sequence[bytes],
        *,
        event_ids: Sequence[str] | None = None,
        measure: Measure | None = None,
    ) -> list[ClosedWindow]:
        """Append items to window `key`; close (and report) every window this completed.

        `event_ids[i]` is the event that item `i` comes from: with the group's done-marks, an
        event already marked done pushes nothing, and the others are marked in the same step.
        """
        if not items:
            return []
        now_ms = int(time.time() * 1000)
        ids = [str(i) for i in event_ids] if event_ids is not None else [""] * len(items)
        if len(ids) != len(items):
            raise ValueError("event_ids must match items one to one")
        keys = [*self._keys(key), f"{self.prefix}index"]
        ttl_s = 1
        if self.marks is not None:
            keys += self.marks.bucket_keys(time.time())
            ttl_s = self.marks.bucket_ttl_s
        await self._add(keys=keys, args=[now_ms, len(items), ttl_s, *ids, *items, key])
        return await self._take_all(key, now_ms, force=False, measure=measure)

    async def close_stale(self, *, measure: Measure | None = None) -> list[ClosedWindow]:
        """Close every window older than `max_age_s` that holds at least `min_size` items."""
        now_ms = int(time.time() * 1000)
        closed: list[ClosedWindow] = []
        for raw in await self.redis.smembers(f"{self.prefix}index"):
            closed += await self._take_all(text(raw), now_ms, force=True, measure=measure)
        return closed

    async def pending(self, key: str) -> int:
        return int(await self.redis.llen(self._keys(key)[0]))

    async def _take_all(
        self, key: str, now_ms: int, *, force: bool, measure: Measure | None
    ) -> list[ClosedWindow]:
        closed: list[ClosedWindow] = []
        keys = [*self._keys(key), self._lease_key(key)]
        while True:
            token = secrets.token_hex(8)
            limits = [self.size, now_ms, int(force), self.min_size, self.max_age_ms]
            reply = await self._lease(keys=keys, args=[*limits, token, self.lease_ms])
            if not reply:
                return closed
            started_ms, items = int(reply[0]), list(reply[1])
            window = ClosedWindow(
                key=key,
                items=items,
                started_at=datetime.fromtimestamp(started_ms / 1000, UTC),
                ended_at=datetime.fromtimestamp(now_ms / 1000, UTC),
            )
            try:
                event = await measure(window) if measure is not None else None
                committed = await self._close(keys, token, len(items), now_ms, event)
            except BaseException:
                with contextlib.suppress(Exception):  # else the lease expires by itself
                    await self._release(keys=[keys[2]], args=[token])
                raise
            if committed:
                closed.append(window)
            force = False  # an aged window closes once; what is left starts a new one

    async def _close(
        self, keys: list[str], token: str, taken: int, now_ms: int, event: Envelope | None
    ) -> bool:
        """Remove the leased items and publish `event`, atomically, if the lease is ours."""
        args: list[str | int | bytes] = [token, taken, now_ms]
        stream = keys[0]  # unused by the script when there is no event
        if event is not None:
            if self.publisher is None:
                raise ValueError("RedisWindows needs a publisher to publish measurements")
            record = self.publisher.encode(event)
            trim = self.publisher.trim(record.stream)
            if trim.maxlen is not None:
                args += ["MAXLEN", trim.maxlen]
            elif trim.max_age_ms is not None:
                args += ["MINID", now_ms - trim.max_age_ms]
            else:
                args += ["", ""]
            for name, value in record.fields.items():
                args += [name, value]
            stream = record.stream
        return bool(await self._commit(keys=[*keys, stream], args=args))
