"""Schema migrations with alembic, driven from code: `spamops store upgrade` runs them.

The alembic configuration is built here (script location = the `store.migrations`
package, shipped as package data), so no alembic.ini is needed at run time. Upgrades run
in one transaction that first takes a lock — SQLite's write lock (`BEGIN IMMEDIATE`),
PostgreSQL's advisory lock — so two processes starting at once migrate one after the
other, and the second finds nothing to do. `create_all` is for tests only; the schema of a
real database always comes from these migrations, and a test proves both agree.
"""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from store.engine import writer
from store.errors import SchemaNotCurrentError, translate
from store.tables import Base

__all__ = [
    "VERSION_TABLE",
    "current_revision",
    "downgrade",
    "ensure_current",
    "head_revision",
    "include_name",
    "new_revision",
    "render_item",
    "schema_diff",
    "upgrade",
    "upgrade_sql",
]

VERSION_TABLE = "store_alembic_version"
"""Not alembic's default name, so MLflow's own alembic table can share a database."""

_PG_LOCK_KEY = 0x5350_414D_5354  # "SPAMST": one advisory lock for store migrations


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("store") / "migrations"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Compare only the store's own tables: others (a scheduler's job store) may share the DB."""
    return type_ != "table" or name in Base.metadata.tables


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render column types as plain SQLAlchemy types, so migrations never import app code."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "store.migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except DBAPIError as exc:
        raise translate(exc, str(engine.url)) from exc


def ensure_current(engine: Engine) -> None:
    """Raise `SchemaNotCurrentError` unless the database is at the code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotCurrentError(
            f"the database at {engine.url} is at schema revision {current or 'none'}, this "
            f"code needs {head}; run `spamops store upgrade`"
        )


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (default: the newest); returns where it ends."""
    config = alembic_config()
    try:
        with writer(engine).connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as exc:
        raise translate(exc, str(engine.url)) from exc
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Migrate the database back to `revision` ("base": no tables); returns where it ends."""
    config = alembic_config()
    try:
        with writer(engine).connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    except DBAPIError as exc:
        raise translate(exc, str(engine.url)) from exc
    return current_revision(engine)


def upgrade_sql(url: str, revision: str = "head") -> str:
    """The SQL an upgrade from nothing to `revision` would run (for a DBA to review)."""
    buffer = io.StringIO()
    config = alembic_config(url)
    config.output_buffer = buffer
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models ([] = same)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "include_name": include_name,
                "compare_type": True,
                "target_metadata": Base.metadata,
            },
        )
        return list(compare_metadata(context, Base.metadata))


def new_revision(engine: Engine, message: str) -> str:
    """Autogenerate the next migration from the models against an up-to-date database.

    For developers changing a table: `spamops store revision "add x to y"` then review it.
    """
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    number = len(list(script.walk_revisions())) + 1
    with writer(engine).connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        result = command.revision(
            config, message=message, autogenerate=True, rev_id=f"{number:04d}"
        )
    scripts = result if isinstance(result, list) else [result]
    return ", ".join(s.path for s in scripts if s is not None)
