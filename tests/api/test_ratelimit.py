"""The leased token bucket under concurrent requests of one principal."""

from __future__ import annotations

import asyncio

from fakeredis import FakeAsyncRedis
from pydantic import SecretStr

from api.security.principal import AuthError, Principal
from api.security.ratelimit import RateLimiter
from bus.keys import Keys
from spamops.settings import AuthSettings


async def test_concurrent_requests_spend_every_leased_token() -> None:
    redis = FakeAsyncRedis()
    auth = AuthSettings(
        jwt_secret=SecretStr("s" * 40),
        rate_limit_per_s=0.001,  # no refill to speak of: the burst is all there is
        rate_limit_burst=1000,
        rate_limit_lease=50,
    )
    limiter = RateLimiter(redis, Keys("rl-test:"), auth)
    principal = Principal(subject="busy", role="predict", method="jwt")

    async def one() -> bool:
        try:
            await limiter.check(principal)
        except AuthError:
            return False
        return True

    # 1,000 requests, 20 at a time: all fit the burst, so none may be refused. (Leases that
    # raced used to overwrite each other and lose tokens: ~half were refused.)
    allowed = [ok for _ in range(50) for ok in await asyncio.gather(*(one() for _ in range(20)))]
    assert all(allowed) and len(allowed) == 1000
    assert not await one()  # and the burst is really spent: the next one is refused
