"""Idempotent, order-independent writes: `INSERT ... ON CONFLICT DO UPDATE ... WHERE newer`.

Every projected row (or column group of a row) carries the id of the event that wrote it.
Event ids are UUIDv7, ordered by time, so "the newest event wins" is decided by comparing
ids, not by arrival order: a redelivered event rewrites nothing, a replay in another order
ends in the same row. The statement is built per dialect (SQLite and PostgreSQL share the
syntax but not the construct).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.errors import UnsupportedDatabaseError

__all__ = ["Target", "Upserter"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where one kind of event writes: a table, its key, and the columns it owns.

    `version` is the column holding the id of the event that wrote `columns`; a conflicting
    write only replaces them when its version is greater. Values in a row beyond `key` and
    `columns` are written on insert only (e.g. a placeholder recomputed later).
    """

    name: str
    table: Table
    key: tuple[str, ...]
    version: str
    columns: tuple[str, ...]


class Upserter:
    """Builds each target's statement once for a dialect and runs it as an executemany."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise UnsupportedDatabaseError(
                f"the store writes to SQLite and PostgreSQL, not {dialect!r}; "
                "set SPAMOPS_DATABASE_URL to one of them"
            )
        self.dialect = dialect
        self._statements: dict[str, Insert] = {}

    def statement(self, target: Target) -> Insert:
        stmt = self._statements.get(target.name)
        if stmt is None:
            stmt = self._statements[target.name] = self._build(target)
        return stmt

    def _build(self, target: Target) -> Insert:
        table = target.table
        if self.dialect == "postgresql":
            pg = postgresql.insert(table)
            return pg.on_conflict_do_update(
                index_elements=[table.c[k] for k in target.key],
                set_={c: pg.excluded[c] for c in target.columns},
                where=or_(
                    table.c[target.version].is_(None),
                    pg.excluded[target.version] > table.c[target.version],
                ),
            )
        lite = sqlite.insert(table)
        return lite.on_conflict_do_update(
            index_elements=[table.c[k] for k in target.key],
            set_={c: lite.excluded[c] for c in target.columns},
            where=or_(
                table.c[target.version].is_(None),
                lite.excluded[target.version] > table.c[target.version],
            ),
        )

    def write(self, session: Session, target: Target, rows: Sequence[Mapping[str, Any]]) -> int:
        """Upsert `rows` (all with the same keys); returns how many distinct keys."""
        unique = newest_per_key(target, rows)
        if unique:
            session.execute(self.statement(target), unique)
        return len(unique)


def newest_per_key(target: Target, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One row per key, the one with the greatest version: the batch-local half of the rule.

    PostgreSQL refuses to update one row twice in a statement, and it saves writes anyway.
    """
    newest: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in target.key)
        kept = newest.get(key)
        if kept is None or row[target.version] > kept[target.version]:
            newest[key] = row
    return list(newest.values())
