"""The `allow(...)` dependency every route declares: authenticate, authorise, rate-limit.

A request presents `Authorization: Bearer <jwt>` or `X-API-Key: spk_...`. The principal is
left in the request state for the access log. Both schemes appear in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy import Engine

from api.security.api_keys import ApiKeyVerifier
from api.security.principal import AuthError, Principal, Role
from api.security.ratelimit import RateLimiter
from api.security.tokens import TokenVerifier
from bus.keys import Keys
from spamops.settings import Settings

__all__ = ["Authenticator", "allow"]

_bearer = HTTPBearer(
    auto_error=False, description="A JWT from POST /auth/token or `spamops tokens issue`."
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="A key from `spamops keys create`."
)


class Authenticator:
    def __init__(self, settings: Settings, redis: Redis, engine: Callable[[], Engine]) -> None:
        self.tokens = TokenVerifier(settings.auth)
        self.api_keys = ApiKeyVerifier(engine, settings.auth.api_key_cache_s)
        self.limiter = RateLimiter(redis, Keys(settings.stream_prefix), settings.auth)

    async def authenticate(
        self, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
    ) -> Principal:
        if bearer is not None:
            return self.tokens.verify(bearer.credentials)
        if api_key:
            return await self.api_keys.verify(api_key)
        raise AuthError(
            401, "credentials required: send 'Authorization: Bearer <token>' or 'X-API-Key: <key>'"
        )


def allow(*roles: Role) -> Any:
    """A dependency that admits principals with one of `roles` (admin is always admitted)."""
    allowed = frozenset(roles)
    needed = ", ".join(sorted(allowed))

    async def guard(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        auth: Authenticator = request.app.state.services.auth
        principal = await auth.authenticate(bearer, api_key)
        request.state.principal = principal
        if not principal.may(allowed):
            raise AuthError(
                403,
                f"role {principal.role!r} may not call {request.method} "
                f"{request.url.path}; it needs one of: {needed}",
            )
        await auth.limiter.check(principal)
        return principal

    guard.__name__ = f"allow_{'_'.join(sorted(allowed))}"
    dependency: Callable[..., Coroutine[Any, Any, Principal]] = guard
    return Depends(dependency)
