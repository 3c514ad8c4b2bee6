"""What the alerter remembers in Redis, shared by every replica of its group.

Two kinds of marks:

- the dedupe window, per channel: `SET <channel>:<dedupe key> <alert id> NX EX window`. The
  first alert with a key owns the window; later alerts with that key are suppressed on that
  channel until it expires. The owner's id is stored so that a redelivery of the owning alert
  (after a crash) is recognised as itself and not suppressed. If the channel failed, the
  window is given back, so the next occurrence is tried again instead of being silenced by
  an alert nobody received.
- per (alert id, channel): `sending` (with a TTL of the channel's retry budget) while an
  attempt runs, then `sent`. A redelivered alert skips channels already sent, and two
  replicas never send the same alert on the same channel at once. The mark is set after the
  channel answered, so the one way to send twice is a crash between the answer and the mark.
  An alert found `sending` is not acknowledged but retried later: the member sending it may
  have died, and then its mark expires and the redelivery sends the alert.
"""

from __future__ import annotations

from uuid import UUID

from redis.asyncio import Redis

from bus.keys import Keys
from bus.replies import text

__all__ = ["AlertLedger"]

_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class AlertLedger:
    def __init__(self, redis: Redis, keys: Keys, group: str, sent_ttl_s: int) -> None:
        self.redis = redis
        self.keys = keys
        self.group = group
        self.sent_ttl_s = sent_ttl_s

    def dedupe_key(self, key: str) -> str:
        return self.keys.state(f"{self.group}:dedupe:{key}")

    def channel_key(self, alert_id: UUID, channel: str) -> str:
        return self.keys.state(f"{self.group}:sent:{alert_id}:{channel}")

    async def first(self, key: str, alert_id: UUID, window_s: int) -> bool:
        """Does this alert own the dedupe window of `key`? (Atomic: one MULTI.)"""
        name = self.dedupe_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(name, str(alert_id), nx=True, ex=window_s)
            pipe.get(name)
            _, owner = await pipe.execute()
        return owner is not None and text(owner) == str(alert_id)

    async def release(self, key: str, alert_id: UUID) -> None:
        """Give the window back, if this alert still owns it."""
        await self.redis.eval(_RELEASE_IF_OWNER, 1, self.dedupe_key(key), str(alert_id))

    async def begin(self, alert_id: UUID, channel: str, ttl_s: float) -> bool:
        """Take (alert, channel) for one delivery; False if sent or being sent already."""
        ttl_ms = max(int(ttl_s * 1000), 1000)
        return bool(
            await self.redis.set(
                self.channel_key(alert_id, channel), b"sending", nx=True, px=ttl_ms
            )
        )

    async def was_sent(self, alert_id: UUID, channel: str) -> bool:
        """True once (alert, channel) was delivered; False while it is only being sent."""
        return await self.redis.get(self.channel_key(alert_id, channel)) == b"sent"

    async def sent(self, alert_id: UUID, channel: str) -> None:
        await self.redis.set(self.channel_key(alert_id, channel), b"sent", ex=self.sent_ttl_s)

    async def abandon(self, alert_id: UUID, channel: str) -> None:
        """Drop the `sending` mark of a delivery that failed, so a resend may try again."""
        await self.redis.delete(self.channel_key(alert_id, channel))
