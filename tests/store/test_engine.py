"""Engines from settings, SQLite pragmas, and driver errors turned into StoreErrors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from spamops.settings import Settings, StoreSettings
from store.engine import create_store_engine, engine_for_url, normalise_url, write_session
from store.errors import (
    SchemaNotCurrentError,
    StoreUnavailableError,
    UnsupportedDatabaseError,
    masked,
)
from store.projection import Projection
from tests.store import scenario


def test_default_is_a_sqlite_file_in_the_data_dir_with_its_pragmas(settings: Settings) -> None:
    engine = create_store_engine(settings)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()
    assert (settings.data_dir / "spamops.db").exists()


def test_urls_are_normalised_or_refused() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(UnsupportedDatabaseError, match=r"sqlite:///path.*postgresql\+psycopg"):
        normalise_url("mysql://u:secret@h/db")
    with pytest.raises(UnsupportedDatabaseError, match="cannot parse"):
        normalise_url("::nonsense::")
    assert "secret" not in masked("postgresql://u:secret@h/db")


def test_refused_connection_is_unavailable_and_names_the_url() -> None:
    engine = engine_for_url(
        "postgresql://spam:secret@127.0.0.1:9/db", StoreSettings(connect_timeout_s=1)
    )
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            Projection(engine).project([scenario.prediction("hi")])
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "127.0.0.1:9" in message and "secret" not in message and "redelivered" in message


def test_a_locked_sqlite_database_is_unavailable(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    make_engine(sqlite_url)  # migrated
    engine = engine_for_url(sqlite_url, StoreSettings(busy_timeout_ms=50))
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="database is locked"):
            Projection(engine).project([scenario.prediction("hi")])
        holder.execute("ROLLBACK")
        Projection(engine).project([scenario.prediction("hi")])
    finally:
        holder.close()
        engine.dispose()


def test_missing_tables_say_run_upgrade(
    database_url: str, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(database_url, migrate=False)
    with pytest.raises(SchemaNotCurrentError, match="spamops store upgrade"):
        Projection(engine).project([scenario.prediction("hi")])


def test_writes_roll_back_on_error(sqlite_url: str, make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(sqlite_url)
    with pytest.raises(RuntimeError), write_session(engine) as session:
        session.execute(text("DELETE FROM predictions"))
        Projection(engine).apply(session, [scenario.prediction("a")])
        raise RuntimeError("boom")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM predictions")).scalar() == 0


def test_sqlite_directory_is_created(tmp_path: Path) -> None:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'a' / 'b' / 'store.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()
    assert (tmp_path / "a" / "b" / "store.db").exists()
