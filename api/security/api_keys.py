"""Verifying `X-API-Key` headers without paying scrypt on every request.

The first request with a key reads its record and checks the secret with scrypt (~50 ms,
in a thread). Success is remembered as the SHA-256 of the presented key for
`api_key_cache_s`; later requests compare that digest in constant time. A revoked key
therefore stops working within `api_key_cache_s` on every replica.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable

from sqlalchemy import Engine

from api.security.passwords import verify_secret
from api.security.principal import ROLES, AuthError, Principal
from store.credentials import get_api_key, parse_key
from store.errors import StoreError

__all__ = ["ApiKeyVerifier"]


class ApiKeyVerifier:
    def __init__(self, engine: Callable[[], Engine], cache_s: float) -> None:
        self._engine = engine
        self._cache_s = cache_s
        self._cache: dict[str, tuple[bytes, Principal, float]] = {}

    async def verify(self, presented: str) -> Principal:
        parsed = parse_key(presented)
        if parsed is None:
            raise AuthError(401, "malformed API key (expected spk_<id>_<secret>)")
        key_id, _ = parsed
        digest = hashlib.sha256(presented.encode()).digest()
        hit = self._cache.get(key_id)
        if hit is not None and time.monotonic() < hit[2] and hmac.compare_digest(hit[0], digest):
            return hit[1]
        principal = await asyncio.to_thread(self._check, key_id, presented)
        self._cache[key_id] = (digest, principal, time.monotonic() + self._cache_s)
        return principal

    def _check(self, key_id: str, presented: str) -> Principal:
        try:
            record = get_api_key(self._engine(), key_id)
        except StoreError as exc:
            raise AuthError(503, f"API keys cannot be checked right now: {exc}") from exc
        _, secret = parse_key(presented) or ("", "")
        if record is None or not verify_secret(secret, record.secret_hash):
            raise AuthError(401, "unknown API key")
        if record.revoked_at is not None:
            raise AuthError(401, f"API key {key_id} was revoked")
        if record.role not in ROLES:
            raise AuthError(401, f"API key {key_id} has no valid role")
        return Principal(f"key:{record.name}", record.role, "api_key")
