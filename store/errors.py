"""Errors of the store package: one root, each message says the cause and the fix.

Database driver errors never leave `store` raw: `translate` turns them into a `StoreError`
subclass that names the (password-masked) URL and what to check. `StoreUnavailableError`
is the transient kind (locked, refused, dropped): a consumer that sees it lets the event
stay pending, so the bus redelivers it once the database is back.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

__all__ = [
    "SchemaNotCurrentError",
    "StoreError",
    "StoreNotEmptyError",
    "StoreUnavailableError",
    "UnsupportedDatabaseError",
    "masked",
    "translate",
]


class StoreError(Exception):
    """Root of every error raised by `store`."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached right now, or is locked by another writer.

    Cause: the PostgreSQL server is down or refuses connections, the network dropped, or
    another process holds a long write lock on the SQLite file. Fix: check that the server
    runs and `SPAMOPS_DATABASE_URL` points at it; for SQLite, find the process holding the
    lock. Events stay pending on the bus and are redelivered once the database answers.
    """


class SchemaNotCurrentError(StoreError):
    """The database schema is not the one this code expects.

    Cause: migrations have not been applied (a new database, or new code on an old one).
    Fix: run `spamops store upgrade`.
    """


class StoreNotEmptyError(StoreError):
    """A rebuild was asked to write into a database that already holds projected rows.

    Fix: point `SPAMOPS_DATABASE_URL` at a new, empty database, or pass `--wipe`.
    """


class UnsupportedDatabaseError(StoreError):
    """The database URL names a backend the store does not support.

    Fix: use `sqlite:///path/to/file.db` or `postgresql+psycopg://user@host/db`.
    """


def masked(url: str) -> str:
    """The URL with its password hidden, safe to print and log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


_MISSING_TABLE = ("no such table", "undefinedtable")


def translate(exc: DBAPIError, url: str) -> StoreError:
    """A driver error as a `StoreError` with cause and fix; chain it with `from exc`."""
    where = masked(url)
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    lowered = f"{type(exc.orig).__name__} {detail}".lower()
    if any(marker in lowered for marker in _MISSING_TABLE):
        return SchemaNotCurrentError(
            f"the database at {where} lacks a table the store needs ({detail}); "
            "run `spamops store upgrade`"
        )
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return StoreUnavailableError(
            f"the database at {where} is unreachable or busy ({detail}); check that it runs "
            "and accepts connections (SQLite: that no other process holds a write lock); "
            "the events stay pending and are redelivered"
        )
    return StoreError(f"the database at {where} rejected a write ({detail})")
