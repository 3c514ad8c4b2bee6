"""The audit logger: every event of every stream into the hash-chained audit log.

Reads all nine streams, `access` and `deadletter` included, from the start of what they
hold (group `audit`, start id "0"). Each read batch is appended in one transaction
(`handle_batch`) that locks the chain head, so several replicas never fork the chain; the
bus acknowledges the batch only after the handler returned, i.e. after the commit. If the
batch fails, the runner retries event by event (`handle`). Appends are idempotent on event
id: a redelivered or duplicated event never adds a row.

A transient outage (SQLite locked, PostgreSQL refusing connections) raises
`StoreUnavailableError`; the events stay pending and are redelivered. For a second after
such a failure, `handle` fails fast instead of waiting out the database's timeout once per
event. An outage longer than the bus' redelivery budget sends events to `deadletter`
(which is audited too); `spamops audit backfill` appends whatever the streams still hold
that the log lacks.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from sqlalchemy import Engine

from bus.bus import RedisBus
from consumers.base import EventConsumer
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings
from store.audit.chain import AuditChain
from store.engine import create_store_engine
from store.errors import StoreError, StoreUnavailableError
from store.migrate import ensure_current, upgrade

__all__ = ["AuditLogger", "make_audit_logger"]

FAIL_FAST_S = 1.0
"""After a transient failure, how long `handle` fails without touching the database."""


class AuditLogger(EventConsumer):
    group: ClassVar[str] = "audit"
    streams: ClassVar[tuple[StreamName, ...]] = tuple(StreamName)
    event_types: ClassVar[frozenset[str] | None] = None
    start_id: ClassVar[str] = "0"

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._chain: AuditChain | None = None
        self._unavailable_until = 0.0
        self._last_outage = ""
        self.appended = 0
        self.duplicates = 0

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError("the audit logger was not started: call start() first")
        return self._engine

    async def start(self) -> None:
        """Open the engine and bring the schema to head (or check it is there)."""
        engine = self._engine or create_store_engine(self.settings)
        self._engine = engine
        if self.settings.store.migrate_on_start:
            await asyncio.to_thread(upgrade, engine)
        else:
            await asyncio.to_thread(ensure_current, engine)
        self._chain = AuditChain(engine)

    async def close(self) -> None:
        if self._owns_engine and self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)

    async def handle(self, event: Event) -> None:
        await self._append([event], fail_fast=True)

    async def handle_batch(self, events: list[Event]) -> None:
        await self._append(events, fail_fast=False)

    async def _append(self, events: list[Event], *, fail_fast: bool) -> None:
        if self._chain is None:
            raise StoreError("the audit logger was not started: call start() first")
        if fail_fast and time.monotonic() < self._unavailable_until:
            raise StoreUnavailableError(f"{self._last_outage} (failing fast for a moment)")
        try:
            result = await asyncio.to_thread(self._chain.append, events)
        except StoreUnavailableError as exc:
            self._unavailable_until = time.monotonic() + FAIL_FAST_S
            self._last_outage = str(exc)
            raise
        self.appended += result.appended
        self.duplicates += result.duplicates


def make_audit_logger(settings: Settings, bus: RedisBus) -> EventConsumer:
    return AuditLogger(settings)
