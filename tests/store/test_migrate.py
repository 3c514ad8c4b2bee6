"""Migrations are the schema: they produce exactly the models' tables, on both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from store.errors import SchemaNotCurrentError
from store.migrate import (
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    schema_diff,
    upgrade,
    upgrade_sql,
)
from store.tables import Base


def test_upgrade_produces_the_models_schema(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []  # autogenerate would change nothing
    ensure_current(engine)


def test_upgrade_is_idempotent_and_downgrade_undoes_it(engine: Engine) -> None:
    assert upgrade(engine) == head_revision()
    assert downgrade(engine, "base") is None
    assert schema_diff(engine) != []
    assert upgrade(engine) == head_revision()
    assert schema_diff(engine) == []


def test_concurrent_upgrades_wait_for_each_other(
    database_url: str, make_engine: Callable[..., Engine]
) -> None:
    engines = [make_engine(database_url, migrate=False) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            upgrade(engine)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert schema_diff(engines[0]) == []


def test_a_fresh_database_is_not_current(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(sqlite_url, migrate=False)
    assert current_revision(engine) is None
    with pytest.raises(SchemaNotCurrentError, match=r"revision none.*spamops store upgrade"):
        ensure_current(engine)


def test_the_diff_sees_a_missing_index_and_ignores_foreign_tables(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR PRIMARY KEY)"))
    assert schema_diff(engine) == []
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_predictions_text_sha256"))
    assert [d[0] for d in schema_diff(engine)] == ["add_index"]


def test_create_all_matches_too(sqlite_url: str, make_engine: Callable[..., Engine]) -> None:
    """Tests may use create_all; it must not drift from the migrations either."""
    engine = make_engine(sqlite_url, migrate=False)
    Base.metadata.create_all(engine)
    assert schema_diff(engine) == []


def test_offline_sql_for_review() -> None:
    script = upgrade_sql("postgresql+psycopg://u@h/db")
    assert "CREATE TABLE predictions" in script and "store_alembic_version" in script
