"""Backfill: append every event the streams still hold that the audit log lacks.

The audit consumer normally sees every event. Backfill is the recovery and the check for
when it may not have: after an outage longer than the bus' redelivery budget (events went
to the dead-letter stream), after starting the log on an existing system, or as an
auditor's completeness check (`--dry-run` counts, appends nothing). Appends are idempotent
on event id and take the chain lock, so it runs safely beside live audit consumers; it
records the stream entry ids, which the replay knows.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bus.bus import Bus
from bus.replay import StoredEvent
from schemas.catalogue import StreamName
from store.audit.chain import AuditChain
from store.audit.read import present_ids
from store.engine import read_session

__all__ = ["BackfillReport", "backfill"]


@dataclass(slots=True)
class BackfillReport:
    seen: int = 0
    """Events the streams hold."""
    missing: dict[str, int] = field(default_factory=dict)
    """Per stream, events the log lacked (appended unless dry run)."""
    appended: int = 0


async def backfill(
    bus: Bus, engine: Engine, *, dry_run: bool = False, batch_size: int = 500
) -> BackfillReport:
    """Replay every stream and append what the log lacks, stream by stream."""
    chain = AuditChain(engine)
    report = BackfillReport()
    for stream in StreamName:
        batch: list[StoredEvent] = []
        async for item in bus.replay(stream):
            batch.append(item)
            if len(batch) >= batch_size:
                await _settle(chain, stream, batch, report, dry_run)
                batch = []
        if batch:
            await _settle(chain, stream, batch, report, dry_run)
    return report


async def _settle(
    chain: AuditChain,
    stream: StreamName,
    batch: list[StoredEvent],
    report: BackfillReport,
    dry_run: bool,
) -> None:
    report.seen += len(batch)
    present = await asyncio.to_thread(_present, chain.engine, batch)
    missing = [item for item in batch if item.event.id not in present]
    if not missing:
        return
    report.missing[stream.value] = report.missing.get(stream.value, 0) + len(missing)
    if not dry_run:
        result = await asyncio.to_thread(
            chain.append, [(item.event, item.entry_id) for item in missing]
        )
        report.appended += result.appended


def _present(engine: Engine, batch: list[StoredEvent]) -> set[uuid.UUID]:
    with read_session(engine) as session:
        return present_ids(session, [item.event.id for item in batch])
