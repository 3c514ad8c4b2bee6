"""Databases for store tests: a SQLite file in tmp, and a PostgreSQL database of their own.

PostgreSQL comes from SPAMOPS_TEST_POSTGRES_URL (default: the CI server at 127.0.0.1:5432,
database `test`, trust auth). Each test that asks for it gets a new database
`spamops_test_<random>`, dropped afterwards; tests skip with the reason when the server
does not answer. `database_url` / `new_database` run a test on both backends.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from store.engine import engine_for_url
from store.migrate import upgrade

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get("SPAMOPS_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        with psycopg.connect(_libpq(url), connect_timeout=2):
            pass
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        pytest.skip(
            f"no PostgreSQL at {make_url(url).render_as_string()} ({reason}); "
            "set SPAMOPS_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )
    return url


@pytest.fixture
def postgres_databases(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Creates new, empty databases for this test; drops them afterwards."""
    admin = _libpq(postgres_server)
    created: list[str] = []

    def create() -> str:
        name = f"spamops_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in created:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> Callable[[], str]:
    """New SQLite files under this test's tmp directory."""
    names = (f"sqlite:///{tmp_path / 'store' / f'store-{i}.db'}" for i in itertools.count(1))
    return lambda: next(names)


@pytest.fixture
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    return postgres_databases()


@pytest.fixture
def sqlite_url(sqlite_databases: Callable[[], str]) -> str:
    return sqlite_databases()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Makes new databases of one backend; tests using it run on SQLite and PostgreSQL."""
    factory: Callable[[], str] = request.getfixturevalue(f"{request.param}_databases")
    return factory


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    return new_database()


@pytest.fixture
def make_engine() -> Iterator[Callable[..., Engine]]:
    """Engines for URLs, migrated to head, disposed after the test."""
    engines: list[Engine] = []

    def build(url: str, *, migrate: bool = True) -> Engine:
        engine = engine_for_url(url)
        engines.append(engine)
        if migrate:
            upgrade(engine)
        return engine

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(database_url: str, make_engine: Callable[..., Engine]) -> Engine:
    """A migrated database on each backend."""
    return make_engine(database_url)
