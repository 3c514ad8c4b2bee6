"""What every consumer is: the streams and types it reads, and how it handles one event.

A consumer is a plain class with `handle(event)`; the bus does delivery (groups, reclaim,
dead letters, dedupe), the runner does process life (signals, drain). `start`/`close` open
and release whatever the consumer needs (a SQL engine, a model, an HTTP client).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import ClassVar

from prometheus_client import CollectorRegistry

from schemas.catalogue import StreamName
from schemas.events import Event

__all__ = ["EventConsumer"]


class EventConsumer(ABC):
    group: ClassVar[str]
    """Consumer-group name: every replica of this consumer shares it."""
    streams: ClassVar[tuple[StreamName, ...]]
    event_types: ClassVar[frozenset[str] | None] = None
    """Only these types reach `handle`; others are acknowledged unseen. None: all."""
    start_id: ClassVar[str] = "0"
    """Where a new group starts: "0" replays what the streams still hold, "$" only new."""
    tick_interval_s: float | None = None
    """If set, the runner calls `tick()` this often (closing aged windows, timers)."""
    metrics: CollectorRegistry | None = None
    """Set by the runner before `start()` when the process serves metrics: a consumer may
    register its own (drift statistics, retraining durations, ...) here."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open resources before the first event."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources after the last event."""

    async def tick(self) -> None:  # noqa: B027 - optional hook
        """Periodic work; an exception is logged and the next tick runs as usual."""

    @abstractmethod
    async def handle(self, event: Event) -> None:
        """Handle one event. Raise to have it redelivered (and dead-lettered after N)."""

    handle_batch: Callable[[list[Event]], Awaitable[None]] | None = None
    """Optional: handle a whole read batch at once (e.g. one SQL transaction). If it raises,
    the runner falls back to `handle` per event, so a poison event only fails itself."""
