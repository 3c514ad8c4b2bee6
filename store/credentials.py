"""Creating, listing, revoking and looking up API keys.

A key is `spk_<id>_<secret>`: the id finds the row, the secret is checked against its
scrypt hash. The plaintext is returned once, at creation, and never stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from store.engine import read_session, write_session
from store.errors import StoreError
from store.tables.credentials import ApiKeyRow

__all__ = [
    "ApiKeyRecord",
    "create_api_key",
    "get_api_key",
    "list_api_keys",
    "parse_key",
    "revoke_api_key",
]


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


def _record(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        row.key_id, row.name, row.role, row.secret_hash, row.created_at, row.revoked_at
    )


def parse_key(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "spk" or not key_id or not secret:
        return None
    return key_id, secret


def create_api_key(
    engine: Engine, name: str, role: str, hash_secret: Callable[[str], str]
) -> tuple[ApiKeyRecord, str]:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKeyRow(
        key_id=key_id,
        name=name,
        role=role,
        secret_hash=hash_secret(secret),
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    with write_session(engine) as session:
        session.add(row)
        record = _record(row)
    return record, f"spk_{key_id}_{secret}"


def get_api_key(engine: Engine, key_id: str) -> ApiKeyRecord | None:
    with read_session(engine) as session:
        row = session.get(ApiKeyRow, key_id)
        return _record(row) if row is not None else None


def list_api_keys(engine: Engine) -> list[ApiKeyRecord]:
    with read_session(engine) as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
        return [_record(r) for r in rows]


def revoke_api_key(engine: Engine, key_id: str) -> ApiKeyRecord:
    with write_session(engine) as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise StoreError(f"no API key with id {key_id!r}; list them with `spamops keys list`")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
        return _record(row)
