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

import functools
from typing import ClassVar

from sqlalchemy import Engine

from bus.bus import RedisBus
from consumers.base import EventConsumer
from consumers.sql_writer import SqlWriter
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings
from store.audit.chain import AuditChain

__all__ = ["AuditLogger", "make_audit_logger"]


class AuditLogger(SqlWriter):
    group: ClassVar[str] = "audit"
    streams: ClassVar[tuple[StreamName, ...]] = tuple(StreamName)
    event_types: ClassVar[frozenset[str] | None] = None
    start_id: ClassVar[str] = "0"

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        super().__init__(settings, engine)
        self._chain: AuditChain | None = None
        self.appended = 0
        self.duplicates = 0

    def _opened(self, engine: Engine) -> None:
        self._chain = AuditChain(engine)

    async def handle(self, event: Event) -> None:
        await self._append([event], fail_fast=True)

    async def handle_batch(self, events: list[Event]) -> None:
        await self._append(events, fail_fast=False)

    async def _append(self, events: list[Event], *, fail_fast: bool) -> None:
        if self._chain is None:
            raise self._not_started()
        write = functools.partial(self._chain.append, events)
        result = await self._in_store(write, fail_fast=fail_fast)
        self.appended += result.appended
        self.duplicates += result.duplicates


def make_audit_logger(settings: Settings, bus: RedisBus) -> EventConsumer:
    return AuditLogger(settings)
