"""Reading the audit log: the head, records in chain order, lookups, and events back.

Records are read in pages by sequence number (keyset pagination, Core rows rather than ORM
objects), so verifying or exporting millions of rows holds one page in memory.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from schemas.events import Event, decode_event
from store.audit.records import AuditRecord, Head
from store.engine import read_session
from store.tables import AuditHeadRow, AuditLogRow

__all__ = [
    "audit_events",
    "find",
    "head_of",
    "last_record",
    "present_ids",
    "read_head",
    "records",
    "seq_range",
]

_LOG = AuditLogRow.__table__
_IN_CHUNK = 500
"""Event ids per `IN (...)` lookup (well below both backends' parameter limits)."""


def _record(mapping: Any) -> AuditRecord:
    return AuditRecord(**dict(mapping))


def read_head(session: Session) -> Head | None:
    """The head row: the newest sequence number and hash the appenders recorded."""
    found = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).first()
    return None if found is None else Head(int(found[0]), str(found[1]))


def head_of(engine: Engine) -> Head | None:
    """The current head of the log (None: nothing logged yet)."""
    with read_session(engine) as session:
        return read_head(session)


def present_ids(session: Session, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these event ids the log already holds."""
    present: set[uuid.UUID] = set()
    for i in range(0, len(event_ids), _IN_CHUNK):
        chunk = event_ids[i : i + _IN_CHUNK]
        query = select(AuditLogRow.event_id).where(AuditLogRow.event_id.in_(chunk))
        present.update(session.scalars(query))
    return present


def last_record(session: Session) -> AuditRecord | None:
    found = session.execute(select(_LOG).order_by(_LOG.c.seq.desc()).limit(1)).first()
    return None if found is None else _record(found._mapping)


def records(
    session: Session, *, from_seq: int = 1, to_seq: int | None = None, page: int = 1000
) -> Iterator[AuditRecord]:
    """Rows with from_seq <= seq <= to_seq, in chain order, a page at a time."""
    after = from_seq - 1
    while True:
        query = select(_LOG).where(_LOG.c.seq > after).order_by(_LOG.c.seq).limit(page)
        if to_seq is not None:
            query = query.where(_LOG.c.seq <= to_seq)
        rows = session.execute(query).all()
        for row in rows:
            yield _record(row._mapping)
        if len(rows) < page:
            return
        after = int(rows[-1].seq)


def seq_range(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> tuple[int, int] | None:
    """The contiguous stretch of the chain from the first to the last row whose event
    occurred in [since, until]; None if none did. Rows recorded in between that occurred
    outside the window (late arrivals) are inside the stretch, so it stays verifiable."""
    query: Select[tuple[Any, Any]] = select(func.min(_LOG.c.seq), func.max(_LOG.c.seq))
    if since is not None:
        query = query.where(_LOG.c.occurred_at >= since)
    if until is not None:
        query = query.where(_LOG.c.occurred_at <= until)
    low, high = session.execute(query).one()
    return None if low is None else (int(low), int(high))


def find(
    session: Session,
    *,
    types: Collection[str],
    subject: str | None = None,
    correlation: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[AuditRecord]:
    """Rows of these types matching every given filter, in chain order."""
    query = select(_LOG).where(_LOG.c.type.in_(list(types)))
    if subject is not None:
        query = query.where(_LOG.c.subject == subject)
    if correlation is not None:
        query = query.where(_LOG.c.correlation == correlation)
    if event_id is not None:
        query = query.where(_LOG.c.event_id == event_id)
    if since is not None:
        query = query.where(_LOG.c.occurred_at >= since)
    if until is not None:
        query = query.where(_LOG.c.occurred_at <= until)
    rows = session.execute(query.order_by(_LOG.c.seq).limit(limit))
    return [_record(row._mapping) for row in rows]


async def audit_events(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: Collection[str] | None = None,
    page: int = 500,
) -> AsyncIterator[Event]:
    """The logged events, decoded, in chain order, a page per thread hop: what
    `store.rebuild.rebuild` replays once Redis retention has dropped them."""
    span = await asyncio.to_thread(_span, engine, since, until)
    if span is None:
        return
    after = span[0] - 1
    while after < span[1]:
        batch = await asyncio.to_thread(_page, engine, after, span[1], page)
        if not batch:
            return
        for record in batch:
            if types is None or record.type in types:
                yield decode_event(record.event)
        after = batch[-1].seq


def _span(engine: Engine, since: datetime | None, until: datetime | None) -> tuple[int, int] | None:
    with read_session(engine) as session:
        return seq_range(session, since=since, until=until)


def _page(engine: Engine, after: int, last: int, size: int) -> list[AuditRecord]:
    with read_session(engine) as session:
        return list(
            itertools.islice(records(session, from_seq=after + 1, to_seq=last, page=size), size)
        )
