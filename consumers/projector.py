"""The projector: writes every projected event into the SQL store, a read batch at a time.

Each read batch is one transaction (`handle_batch`); the bus acknowledges the batch only
after the handler returns, i.e. after the commit. If the batch fails, the runner retries
event by event (`handle`), so one poison event fails alone. A transient outage (SQLite
locked, PostgreSQL refusing connections) raises `StoreUnavailableError`, leaving the events
pending for redelivery. Every batch tries the database, but for a moment after an outage
`handle` fails fast, rather than waiting out the database's timeout once per event of the
batch that just failed.

Streams: all but `access` (high volume, kept by the audit log) and `deadletter` (copies of
entries still in their own streams).
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
from store.engine import create_store_engine
from store.errors import StoreError, StoreUnavailableError
from store.migrate import ensure_current, upgrade
from store.projection import Projection
from store.rows import PROJECTED_STREAMS, PROJECTED_TYPES

__all__ = ["Projector", "make_projector"]

FAIL_FAST_S = 1.0
"""After a transient failure, how long `handle` fails without touching the database."""


class Projector(EventConsumer):
    group: ClassVar[str] = "projector"
    streams: ClassVar[tuple[StreamName, ...]] = PROJECTED_STREAMS
    event_types: ClassVar[frozenset[str] | None] = PROJECTED_TYPES

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._projection: Projection | None = None
        self._unavailable_until = 0.0
        self._last_outage = ""
        self.projected = 0

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError("the projector was not started: call start() first")
        return self._engine

    async def start(self) -> None:
        """Open the engine and bring the schema to head (or check it is there)."""
        engine = self._engine or create_store_engine(self.settings)
        self._engine = engine
        if self.settings.store.migrate_on_start:
            await asyncio.to_thread(upgrade, engine)
        else:
            await asyncio.to_thread(ensure_current, engine)
        self._projection = Projection(engine)

    async def close(self) -> None:
        if self._owns_engine and self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)

    async def handle(self, event: Event) -> None:
        await self._project([event], fail_fast=True)

    async def handle_batch(self, events: list[Event]) -> None:
        await self._project(events, fail_fast=False)

    async def _project(self, events: list[Event], *, fail_fast: bool) -> None:
        if self._projection is None:
            raise StoreError("the projector was not started: call start() first")
        if fail_fast and time.monotonic() < self._unavailable_until:
            raise StoreUnavailableError(f"{self._last_outage} (failing fast for a moment)")
        try:
            await asyncio.to_thread(self._projection.project, events)
        except StoreUnavailableError as exc:
            self._unavailable_until = time.monotonic() + FAIL_FAST_S
            self._last_outage = str(exc)
            raise
        self.projected += len(events)


def make_projector(settings: Settings, bus: RedisBus) -> EventConsumer:
    return Projector(settings)
