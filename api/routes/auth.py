"""`POST /auth/token`: log in as a configured principal, get a JWT."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SettingsDep
from api.security.passwords import hash_secret, verify_secret
from api.security.principal import AuthError, Role
from api.security.tokens import issue_token

__all__ = ["router"]

router = APIRouter(tags=["auth"])

# Checked when the user is unknown, so that timing does not tell which names exist.
_DUMMY_HASH = hash_secret("not-a-password")


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: Role


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={401: {"description": "Wrong username or password."}},
)
async def token(body: Login, settings: SettingsDep) -> TokenOut:
    """Exchange a configured principal's username and password for a bearer token."""
    user = settings.auth.users.get(body.username)
    stored = user.password_hash if user else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_secret, body.password, stored)
    if user is None or not ok:
        raise AuthError(401, "wrong username or password")
    access = issue_token(settings.auth, body.username, user.role)
    return TokenOut(access_token=access, expires_in=settings.auth.token_ttl_s, role=user.role)
