"""Idempotency on event id: at-least-once delivery made effectively-once for handlers.

Done-marks live in time-bucketed sets, `done:<group>:<bucket>`, each expiring after the
dedupe window. Checking a batch is one SMISMEMBER per live bucket; marking it is one SADD
and one EXPIRE queued on the same MULTI as the batch's XACK, so "handled" and
"acknowledged" never disagree. (A key per event, SET NX EX, costs two commands per event
and capped a consumer at ~10k events/s here; buckets cost a constant few per batch.)

Handlers whose side effect lives outside Redis (an e-mail, a training run) can also `claim`
a name before acting, so a redelivery after a crash becomes a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.keys import Keys

__all__ = ["DoneMarks"]

_BUCKETS = 8


class DoneMarks:
    def __init__(self, redis: Redis, keys: Keys, group: str, ttl_s: int) -> None:
        self.redis = redis
        self.keys = keys
        self.group = group
        self.ttl_s = ttl_s
        self.bucket_s = max(ttl_s // _BUCKETS, 1)

    def _bucket_key(self, bucket: int) -> str:
        return self.keys.dedupe(self.group, str(bucket))

    def _live_buckets(self, now: float) -> list[int]:
        current = int(now // self.bucket_s)
        return [current - i for i in range(_BUCKETS + 1)]

    async def seen(self, event_ids: Sequence[str]) -> list[bool]:
        """Which of these event ids this group has already handled (one round trip)."""
        if not event_ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in self._live_buckets(time.time()):
                pipe.smismember(self._bucket_key(bucket), list(event_ids))
            replies = await pipe.execute()
        return [any(int(reply[i]) for reply in replies) for i in range(len(event_ids))]

    @property
    def bucket_ttl_s(self) -> int:
        """How long a bucket of marks lives after its last write."""
        return self.ttl_s + self.bucket_s

    def bucket_keys(self, now: float) -> list[str]:
        """The keys of the live buckets, the one new marks go to first (for Lua scripts
        that check and mark in one step, like `consumers.windows`)."""
        return [self._bucket_key(b) for b in self._live_buckets(now)]

    def mark(self, pipe: Pipeline, event_ids: Sequence[str]) -> None:
        """Queue the done-marks on a (MULTI) pipeline that also carries the XACK."""
        if not event_ids:
            return
        key = self._bucket_key(int(time.time() // self.bucket_s))
        pipe.sadd(key, *event_ids)
        pipe.expire(key, self.bucket_ttl_s)

    async def claim(self, name: str, ttl_s: int | None = None) -> bool:
        """Take `name` for this group once: True the first time, False ever after (until TTL)."""
        key = self.keys.dedupe(self.group, f"claim:{name}")
        return bool(await self.redis.set(key, b"1", nx=True, ex=ttl_s or self.ttl_s))

    async def release(self, name: str) -> None:
        """Give a claim back, e.g. when the side effect it guarded failed and should retry."""
        await self.redis.delete(self.keys.dedupe(self.group, f"claim:{name}"))
