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

import functools
from typing import ClassVar

from sqlalchemy import Engine

from bus.bus import RedisBus
from consumers.base import EventConsumer
from consumers.sql_writer import SqlWriter
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings
from store.projection import Projection
from store.rows import PROJECTED_STREAMS, PROJECTED_TYPES

__all__ = ["Projector", "make_projector"]


class Projector(SqlWriter):
    group: ClassVar[str] = "projector"
    streams: ClassVar[tuple[StreamName, ...]] = PROJECTED_STREAMS
    event_types: ClassVar[frozenset[str] | None] = PROJECTED_TYPES

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        super().__init__(settings, engine)
        self._projection: Projection | None = None
        self.projected = 0

    def _opened(self, engine: Engine) -> None:
        self._projection = Projection(engine)

    async def handle(self, event: Event) -> None:
        await self._project([event], fail_fast=True)

    async def handle_batch(self, events: list[Event]) -> None:
        await self._project(events, fail_fast=False)

    async def _project(self, events: list[Event], *, fail_fast: bool) -> None:
        if self._projection is None:
            raise self._not_started()
        write = functools.partial(self._projection.project, events)
        await self._in_store(write, fail_fast=fail_fast)
        self.projected += len(events)


def make_projector(settings: Settings, bus: RedisBus) -> EventConsumer:
    return Projector(settings)
