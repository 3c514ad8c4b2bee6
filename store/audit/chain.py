"""Appending to the audit log: one chain, in insertion order, idempotent on event id.

Every append runs in one transaction that first locks the chain head — `SELECT ... FOR
UPDATE` of the `audit_head` row on PostgreSQL, the SQLite write lock taken at `BEGIN
IMMEDIATE` — so appenders (audit replicas, batches, a backfill) run one after the other
and each continues from the hash the previous one committed: the chain never forks.
Under the lock, events whose id is already in the log are skipped, so a redelivered or
duplicated event never adds a row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from schemas.envelope import Envelope, utcnow
from store.audit.canonical import GENESIS, canonical_json, link_hash, lookups_of
from store.audit.read import present_ids
from store.engine import write_session
from store.tables import AuditHeadRow, AuditLogRow

__all__ = ["AppendResult", "AuditChain", "Item"]

_LOG = cast(Table, AuditLogRow.__table__)  # Core inserts: twice as fast as ORM bulk ones

Item = Envelope | tuple[Envelope, str | None]
"""An event, or an event with the stream entry id it was read from."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    appended: int
    duplicates: int
    seq: int
    """The head after the append: the last sequence number (0: empty log)."""
    hash: str


def _split(item: Item) -> tuple[Envelope, str | None]:
    return item if isinstance(item, tuple) else (item, None)


class AuditChain:
    """Appends events to the audit log of one database; build it once per engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, items: Iterable[Item]) -> AppendResult:
        """Append `items` in one transaction of their own (blocking: call it in a thread)."""
        with write_session(self.engine) as session:
            return self.append_in(session, items)

    def append_in(self, session: Session, items: Iterable[Item]) -> AppendResult:
        """Append in the session's transaction (the caller commits); order is kept."""
        first: dict[uuid.UUID, tuple[Envelope, str | None]] = {}
        given = 0
        for item in items:
            given += 1
            event, entry_id = _split(item)
            first.setdefault(event.id, (event, entry_id))
        seq, prev = lock_head(session)
        known = present_ids(session, list(first))
        now = utcnow()
        rows: list[dict[str, object]] = []
        for event_id, (event, entry_id) in first.items():
            if event_id in known:
                continue
            text, document = canonical_json(event)
            lookups = lookups_of(document)
            seq += 1
            digest = link_hash(seq, prev, entry_id, text)
            rows.append(
                {
                    "seq": seq,
                    "event_id": lookups.event_id,
                    "stream": lookups.stream,
                    "entry_id": entry_id,
                    "type": lookups.type,
                    "occurred_at": lookups.occurred_at,
                    "correlation": lookups.correlation,
                    "subject": lookups.subject,
                    "recorded_at": now,
                    "event": text,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        if rows:
            session.execute(insert(_LOG), rows)
            session.execute(
                update(AuditHeadRow)
                .where(AuditHeadRow.id == 1)
                .values(seq=seq, hash=prev, updated_at=now)
            )
        return AppendResult(len(rows), given - len(rows), seq, prev)


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain head for this transaction; (last seq, last hash).

    A missing head row is created from the last row of the log (or the genesis hash), so
    a log whose head row was lost continues where its rows end.
    """
    query = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    found = session.execute(query.with_for_update()).first()
    if found is None:
        last = session.execute(
            select(AuditLogRow.seq, AuditLogRow.hash).order_by(AuditLogRow.seq.desc()).limit(1)
        ).first()
        seq, digest = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(AuditHeadRow)
            .values(id=1, seq=seq, hash=digest, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        found = session.execute(query.with_for_update()).one()
    return int(found[0]), str(found[1])
