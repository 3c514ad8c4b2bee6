"""The SQL engine and sessions, built from `Settings` (never at import).

SQLite (the default, a file in the data directory) is tuned for one writer and many
readers: WAL journal, a busy timeout instead of instant "database is locked", foreign keys
on, and transactions begun by us rather than by the `sqlite3` driver, so that a write
transaction can take the write lock up front (`BEGIN IMMEDIATE`) instead of failing half
way when it upgrades a read lock. PostgreSQL goes through psycopg 3; a plain
`postgresql://` URL is read as `postgresql+psycopg://`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from spamops.settings import Settings, StoreSettings
from store.errors import UnsupportedDatabaseError, masked, translate

__all__ = [
    "BEGIN_OPTION",
    "create_store_engine",
    "engine_for_url",
    "normalise_url",
    "read_session",
    "session_factory",
    "write_session",
    "writer",
]

BEGIN_OPTION = "spamops_sqlite_begin"
"""Execution option naming the SQLite BEGIN mode of a connection ("" or "IMMEDIATE")."""


def normalise_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL; refuse other backends."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnsupportedDatabaseError(
            f"cannot parse the database URL {masked(url)!r} ({exc}); "
            "use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise UnsupportedDatabaseError(
        f"the database URL {masked(url)!r} names {backend!r}; the store supports SQLite "
        "(sqlite:///path/to/file.db) and PostgreSQL (postgresql+psycopg://user@host/db)"
    )


def engine_for_url(url: str, options: StoreSettings | None = None) -> Engine:
    """An engine for `url`; SQLite files get their directory created and their pragmas."""
    opts = options or StoreSettings()
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, opts)
    return create_engine(
        parsed,
        pool_size=opts.pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": opts.connect_timeout_s},
    )


def create_store_engine(settings: Settings) -> Engine:
    """The engine of the configured store (`SPAMOPS_DATABASE_URL`, else SQLite in data_dir)."""
    return engine_for_url(settings.resolved_database_url, settings.store)


def _sqlite_engine(url: URL, opts: StoreSettings) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": opts.busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see `_on_begin`)
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(opts.busy_timeout_ms)}")
            cursor.execute(f"PRAGMA synchronous={opts.sqlite_synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the SQLite write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (read models outlive the session)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for queries; driver errors come out as `StoreError`s with cause and fix."""
    with Session(engine, expire_on_commit=False, autoflush=False) as session:
        try:
            yield session
        except DBAPIError as exc:
            raise translate(exc, str(engine.url)) from exc


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    with Session(writer(engine), expire_on_commit=False, autoflush=False) as session:
        try:
            with session.begin():
                yield session
        except DBAPIError as exc:
            raise translate(exc, str(engine.url)) from exc
