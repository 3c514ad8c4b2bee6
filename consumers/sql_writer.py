"""What the projector and the audit logger share: a consumer whose effect is a SQL commit.

It opens the store engine at start (upgrading or checking the schema), runs each write in
a worker thread, and after a transient outage (`StoreUnavailableError`: SQLite locked,
PostgreSQL refusing connections) fails fast for a moment in `handle`, rather than waiting
out the database's timeout once per event of the batch that just failed. The events stay
pending either way: the bus acknowledges only after the handler returned, i.e. after the
commit.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from consumers.base import EventConsumer
from spamops.settings import Settings
from store.engine import create_store_engine
from store.errors import StoreError, StoreUnavailableError
from store.migrate import ensure_current, upgrade

__all__ = ["FAIL_FAST_S", "SqlWriter"]

FAIL_FAST_S = 1.0
"""After a transient failure, how long `handle` fails without touching the database."""

R = TypeVar("R")


class SqlWriter(EventConsumer):
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._unavailable_until = 0.0
        self._last_outage = ""

    def _not_started(self) -> StoreError:
        return StoreError(f"the {self.group} consumer was not started: call start() first")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise self._not_started()
        return self._engine

    async def start(self) -> None:
        """Open the engine and bring the schema to head (or check it is there)."""
        engine = self._engine or create_store_engine(self.settings)
        self._engine = engine
        if self.settings.store.migrate_on_start:
            await asyncio.to_thread(upgrade, engine)
        else:
            await asyncio.to_thread(ensure_current, engine)
        self._opened(engine)

    @abstractmethod
    def _opened(self, engine: Engine) -> None:
        """Build what writes through `engine` (called once by `start`)."""

    async def close(self) -> None:
        if self._owns_engine and self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)

    async def _in_store(self, write: Callable[[], R], *, fail_fast: bool) -> R:
        """Run `write` in a worker thread; remember an outage so `handle` can fail fast."""
        if fail_fast and time.monotonic() < self._unavailable_until:
            raise StoreUnavailableError(f"{self._last_outage} (failing fast for a moment)")
        try:
            return await asyncio.to_thread(write)
        except StoreUnavailableError as exc:
            self._unavailable_until = time.monotonic() + FAIL_FAST_S
            self._last_outage = str(exc)
            raise
