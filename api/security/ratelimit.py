"""Per-principal rate limiting: a token bucket in Redis, leased to each replica in chunks.

The bucket (rate, burst) lives in Redis so that every replica shares it. A replica takes
`rate_limit_lease` tokens at a time and spends them locally, so only one request in a
lease touches Redis (a Lua script refills and takes atomically). When the bucket is empty
the request gets 429 with a Retry-After. If Redis does not answer, requests are allowed:
the limit protects capacity, and a Redis outage must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time

from redis.asyncio import Redis

from api.security.principal import AuthError, Principal
from bus.keys import Keys
from spamops.settings import AuthSettings

__all__ = ["RateLimiter"]

log = logging.getLogger(__name__)

_TAKE = """
local rate, burst, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {granted, tostring(tokens)}
"""


class RateLimiter:
    def __init__(self, redis: Redis, keys: Keys, auth: AuthSettings) -> None:
        self.keys = keys
        self.rate = auth.rate_limit_per_s
        self.burst = auth.rate_limit_burst
        self.lease = max(1, min(auth.rate_limit_lease, int(auth.rate_limit_burst)))
        self._take = redis.register_script(_TAKE)
        self._local: dict[str, int] = {}
        self.failed_open = 0

    async def check(self, principal: Principal) -> None:
        left = self._local.get(principal.subject, 0)
        if left > 0:
            self._local[principal.subject] = left - 1
            return
        try:
            granted, _ = await self._take(
                keys=[self.keys.ratelimit(principal.subject)],
                args=[self.rate, self.burst, time.time(), self.lease],
            )
        except Exception as exc:  # Redis down or slow: availability before the limit
            self.failed_open += 1
            if self.failed_open % 1000 == 1:
                log.warning("rate limiter unavailable (%s): allowing requests", exc)
            return
        granted = int(granted)
        if granted < 1:
            retry = max(1, math.ceil(1 / self.rate))
            raise AuthError(
                429,
                f"rate limit of {self.rate:g}/s (burst {self.burst:g}) exceeded for "
                f"{principal.subject}; retry in {retry} s",
            )
        # Other requests of this principal may have leased meanwhile (they all found the
        # local count at 0): add to what they left, never overwrite it, or leased tokens
        # are lost and a busy principal is throttled far below its rate.
        self._local[principal.subject] = self._local.get(principal.subject, 0) + granted - 1
