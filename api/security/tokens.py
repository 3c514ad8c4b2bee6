"""JWT bearer tokens (PyJWT): issuing and verifying, with key rotation by `kid`.

The algorithm is fixed by configuration (HS256 by default, RS256 with a key pair), and
verification accepts only that one: `alg: none` and algorithm confusion (an RS256 public
key used as an HMAC secret) are rejected. `exp`, `iat`, `iss`, `aud` and `sub` are
required. Every key has an id (`kid`: a fingerprint of the key), so old keys can still
verify while their tokens expire. Verified tokens are cached until they expire, which
keeps authentication to a dictionary lookup on the request path.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from api.security.principal import ROLES, AuthError, Principal, Role
from spamops.settings import AuthSettings

__all__ = ["KeyRing", "TokenVerifier", "issue_token"]


def _kid(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    algorithm: str
    signing_key: Any | None
    signing_kid: str | None
    verification: dict[str, Any]

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> KeyRing:
        if auth.jwt_algorithm == "HS256":
            secrets = [auth.jwt_secret, *auth.jwt_previous_secrets]
            keys = {_kid(s.get_secret_value().encode()): s.get_secret_value() for s in secrets}
            current = auth.jwt_secret.get_secret_value()
            return cls("HS256", current, _kid(current.encode()), keys)
        from cryptography.hazmat.primitives.serialization import (
            load_pem_private_key,
            load_pem_public_key,
        )

        public = {}
        for path in auth.jwt_public_key_files:
            pem = path.read_bytes()
            public[_kid(pem.strip())] = load_pem_public_key(pem)
        signing = signing_kid = None
        if auth.jwt_private_key_file is not None:
            signing = load_pem_private_key(auth.jwt_private_key_file.read_bytes(), None)
            from cryptography.hazmat.primitives.serialization import (
                Encoding,
                PublicFormat,
            )

            pem = signing.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            signing_kid = _kid(pem.strip())
            public.setdefault(signing_kid, signing.public_key())
        return cls("RS256", signing, signing_kid, public)


def issue_token(
    auth: AuthSettings,
    subject: str,
    role: Role,
    ttl_s: int | None = None,
    keys: KeyRing | None = None,
) -> str:
    keys = keys or KeyRing.from_settings(auth)
    if keys.signing_key is None:
        raise AuthError(500, "no signing key: set SPAMOPS_AUTH__JWT_PRIVATE_KEY_FILE")
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role,
        "iss": auth.issuer,
        "aud": auth.audience,
        "iat": now,
        "exp": now + (ttl_s or auth.token_ttl_s),
    }
    return jwt.encode(
        claims, keys.signing_key, algorithm=keys.algorithm, headers={"kid": keys.signing_kid}
    )


class TokenVerifier:
    def __init__(self, auth: AuthSettings, keys: KeyRing | None = None, cache: int = 10_000):
        self.auth = auth
        self.keys = keys or KeyRing.from_settings(auth)
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            expires, principal = hit
            if time.time() < expires:
                return principal
            del self._cache[token]
        principal, expires = self._decode(token)
        self._cache[token] = (expires, principal)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys.verification.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise AuthError(401, "the token was signed with an unknown key (kid)")
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.keys.algorithm],
                audience=self.auth.audience,
                issuer=self.auth.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "the token has expired; get a new one") from None
        except jwt.InvalidAudienceError:
            raise AuthError(401, "the token is not for this API (audience)") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(401, f"invalid token: {exc}") from None
        role = claims.get("role")
        if role not in ROLES:
            raise AuthError(401, "the token carries no valid role")
        return Principal(str(claims["sub"]), role, "jwt"), float(claims["exp"])
