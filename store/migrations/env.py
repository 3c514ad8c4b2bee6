"""Alembic environment of the store, driven by `store.migrate` (no alembic.ini needed).

`store.migrate` passes an open connection, already inside a transaction (holding the
SQLite write lock or a PostgreSQL advisory lock, so concurrent upgrades run one after
the other), in `config.attributes["connection"]`. Offline (`--sql`) it passes a URL.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from store.migrate import VERSION_TABLE, include_name, render_item
from store.tables import Base


def _options(dialect: str) -> dict[str, Any]:
    return {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "render_item": render_item,
        "render_as_batch": dialect == "sqlite",
        "compare_type": True,
        "transactional_ddl": True,  # SQLite's DDL is transactional too; one upgrade, one commit
    }


def _online(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def _offline(url: str) -> None:
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(url=url, literal_binds=True, **_options(dialect))
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        _offline(config.get_main_option("sqlalchemy.url") or "")
        return
    connection = config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run the store's migrations through store.migrate (spamops store)")
    _online(connection)


_main()
