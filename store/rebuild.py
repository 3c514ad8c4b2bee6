"""Rebuilding the store from the streams: replay every projected event into an empty database.

The replay goes through `Projection`, the live projector's own code, in batches of one
transaction each. Projections are idempotent and independent of arrival order, so the
rebuilt tables equal the live ones — as far as Redis retention still holds the events.
An event the database rejects (the live projector dead-lettered it too) is skipped and
reported; an unreachable database stops the rebuild.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, delete, func, select

from bus.bus import Bus
from schemas.envelope import utcnow
from schemas.events import Event
from store.engine import read_session, write_session
from store.errors import StoreError, StoreNotEmptyError, StoreUnavailableError
from store.migrate import upgrade
from store.projection import Projection
from store.rows import PROJECTED_STREAMS, PROJECTED_TYPES
from store.tables.base import projection_tables

__all__ = ["RebuildReport", "rebuild", "row_counts", "stream_events", "wipe"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RebuildReport:
    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table after the rebuild."""
    rejected: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    """Events the database refused (event id, error), skipped."""
    seconds: float = 0.0


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each projection table."""
    with read_session(engine) as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in projection_tables()
        }


def wipe(engine: Engine) -> None:
    """Delete every projected row (the schema stays)."""
    with write_session(engine) as session:
        for table in reversed(projection_tables()):
            session.execute(delete(table))


async def stream_events(bus: Bus, *, until: datetime | None = None) -> AsyncIterator[Event]:
    """Every projected event the streams hold up to `until` (default: now), stream by stream."""
    end = until or utcnow()
    for stream in PROJECTED_STREAMS:
        async for item in bus.replay(stream, until=end, types=PROJECTED_TYPES):
            yield item.event


async def rebuild(
    engine: Engine,
    events: AsyncIterable[Event],
    *,
    batch_size: int = 500,
    wipe_first: bool = False,
) -> RebuildReport:
    """Migrate the database to head, check it is empty (or wipe it), project `events`."""
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, engine)
    counts = await asyncio.to_thread(row_counts, engine)
    if any(counts.values()):
        if not wipe_first:
            filled = ", ".join(f"{name} ({n})" for name, n in counts.items() if n)
            raise StoreNotEmptyError(
                f"the database at {engine.url} already holds rows in {filled}; rebuild into "
                "an empty database (point SPAMOPS_DATABASE_URL at a new one) or pass --wipe"
            )
        await asyncio.to_thread(wipe, engine)
    projection = Projection(engine)
    report = RebuildReport()
    batch: list[Event] = []
    async for event in events:
        batch.append(event)
        if len(batch) >= batch_size:
            await asyncio.to_thread(_project, projection, batch, report)
            batch = []
    if batch:
        await asyncio.to_thread(_project, projection, batch, report)
    report.rows = await asyncio.to_thread(row_counts, engine)
    report.seconds = time.perf_counter() - started
    return report


def _project(projection: Projection, batch: list[Event], report: RebuildReport) -> None:
    """One batch in one transaction; if the database refuses it, event by event."""
    try:
        projection.project(batch)
        report.events += len(batch)
        return
    except StoreUnavailableError:
        raise
    except StoreError as exc:
        log.warning("a batch of %d was refused (%s); projecting one by one", len(batch), exc)
    for event in batch:
        try:
            projection.project([event])
            report.events += 1
        except StoreUnavailableError:
            raise
        except StoreError as exc:
            report.rejected.append((event.id, str(exc)))
