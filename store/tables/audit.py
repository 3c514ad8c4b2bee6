"""The audit log: every event of every stream, append-only and hash-chained.

Unlike the projections, these tables are not rebuilt from the streams: they are the
archive that outlives Redis retention. `audit_log` holds one row per event (the canonical
JSON text that was hashed, and the chain fields); `audit_head` is a single row, the newest
sequence number and hash, which appenders lock to serialise (one chain, never a fork) and
which `spamops audit verify` compares with the last row (a truncated tail shows).

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of `audit_log`: that stops
mistakes and application bugs, not a database owner, who can drop them; the hash chain is
what makes such tampering visible. The trigger SQL is repeated in migration 0002, which
never imports application code. Both tables carry `info["projection"] = False`: rebuild and
wipe must leave them alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DDL, BigInteger, CheckConstraint, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["APPEND_ONLY_DDL", "AuditHeadRow", "AuditLogRow"]


class AuditLogRow(Base):
    """One event. `event` is the exact text hashed; the other columns are lookups derived
    from it (checked against it by `verify`) or chain fields."""

    __tablename__ = "audit_log"
    __table_args__ = {"info": {"projection": False}}  # noqa: RUF012 - read by SQLAlchemy

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    stream: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(48))
    type: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    correlation: Mapped[uuid.UUID] = mapped_column(index=True)
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    recorded_at: Mapped[datetime]
    event: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain head: the last sequence number and hash (one row, id 1)."""

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        {"info": {"projection": False}},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
}
"""The triggers that make `audit_log` append-only, per dialect (migration 0002 has a copy)."""


def _ddl(statement: str, dialect: str) -> DDL:
    ddl: DDL = DDL(statement)  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    return ddl.execute_if(dialect=dialect)


# `create_all` (tests) gets the same triggers as the migration; dropping the table drops them.
for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(AuditLogRow.__table__, "after_create", _ddl(_statement, _dialect))
event.listen(
    AuditLogRow.__table__,
    "after_drop",
    _ddl("DROP FUNCTION IF EXISTS audit_log_append_only()", "postgresql"),
)
