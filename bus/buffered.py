"""A publisher for request paths: `enqueue` never waits on Redis and never raises.

Events go into a bounded in-memory queue; one background task drains it in pipelined
batches. When Redis does not answer, batches are appended to a spool file instead, and the
task keeps retrying with backoff; once Redis answers it re-publishes the spool in order and
then returns to direct publishing. While anything is spooled, new events are spooled behind
it, so order is kept. If the queue overflows (Redis far slower than traffic), the queue is
moved to the spool in one write. Nothing is dropped unless the spool cannot be written;
`stats.dropped` counts that case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bus.errors import SpoolError
from bus.publisher import Publisher, Record
from bus.spool import Spool
from schemas.envelope import Envelope
from spamops.settings import BusSettings

__all__ = ["BufferedPublisher", "PublisherStats"]

log = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_ENCODE_CHUNK = 64


@dataclass(frozen=True, slots=True)
class PublisherStats:
    queued: int
    published: int
    spooled: int
    dropped: int
    spooling: bool
    """True while Redis is unreachable or the spool is still being re-published."""


class BufferedPublisher:
    def __init__(self, publisher: Publisher, spool: Spool, settings: BusSettings) -> None:
        self._publisher = publisher
        self._spool = spool
        self._settings = settings
        self._queue: deque[Envelope] = deque()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._spooling = spool.pending()
        self._backoff_ms = settings.reconnect_backoff_ms
        self._next_retry = 0.0
        self._published = 0
        self._spooled = 0
        self._dropped = 0

    @property
    def stats(self) -> PublisherStats:
        return PublisherStats(
            queued=len(self._queue),
            published=self._published,
            spooled=self._spooled,
            dropped=self._dropped,
            spooling=self._spooling,
        )

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._drain(), name="bus-buffered-publisher")

    def enqueue(self, event: Envelope) -> None:
        """Hand an event over for publishing. O(1), no I/O in the common case, never raises."""
        try:
            if len(self._queue) >= self._settings.queue_size:
                self._overflow()
            self._queue.append(event)
            self._notify()
        except Exception:  # the caller's request must not fail because of the bus
            self._dropped += 1
            log.exception("event dropped: could not enqueue")

    async def close(self, timeout_s: float = 10.0) -> None:
        """Publish (or spool) everything still queued, then stop the background task."""
        self._closing = True
        self._notify()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._queue:  # whatever is left must survive on disk
            self._spool_records([self._publisher.encode(e) for e in self._queue])
            self._queue.clear()

    def _notify(self) -> None:
        wake, loop = self._wake, self._loop
        if wake is None or loop is None or wake.is_set():
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    def _overflow(self) -> None:
        """The queue is full: move it to the spool in one write and publish from there."""
        records = [self._publisher.encode(e) for e in self._queue]
        self._queue.clear()
        self._spooling = True
        self._spool_records(records)
        log.warning("publish queue full: %d events moved to the spool", len(records))

    def _spool_records(self, records: list[Record]) -> None:
        try:
            self._spool.append(records)
            self._spooled += len(records)
        except SpoolError:
            self._dropped += len(records)
            log.exception("%d events dropped: the spool cannot be written", len(records))

    def _take_batch(self, limit: int | None = None) -> list[Record]:
        batch: list[Record] = []
        size = limit or self._settings.batch_size
        while self._queue and len(batch) < size:
            event = self._queue.popleft()
            try:
                batch.append(self._publisher.encode(event))
            except Exception:
                self._dropped += 1
                log.exception("event dropped: a %s cannot be encoded", type(event).__name__)
        return batch

    async def _encode_batch(self) -> list[Record]:
        """Like `_take_batch`, yielding to request handlers every `_ENCODE_CHUNK` events:
        serialising 500 events at once would hold the event loop for ~5 ms."""
        batch: list[Record] = []
        while self._queue and len(batch) < self._settings.batch_size:
            batch.extend(self._take_batch(_ENCODE_CHUNK))
            await asyncio.sleep(0)
        return batch

    async def _drain(self) -> None:
        assert self._wake is not None
        while True:
            if self._spooling and time.monotonic() >= self._next_retry:
                await self._try_flush_spool()
            if self._queue:
                batch = await self._encode_batch()
                if self._spooling:
                    self._spool_records(batch)
                else:
                    await self._publish_or_spool(batch)
                await asyncio.sleep(0)  # let request handlers run between batches
                continue
            if self._closing and not (self._spooling and self._redis_may_be_back()):
                return
            self._wake.clear()
            timeout = max(self._next_retry - time.monotonic(), 0.001) if self._spooling else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _redis_may_be_back(self) -> bool:
        """On close, make one last flush attempt only if a retry is already due."""
        return time.monotonic() >= self._next_retry and self._spool.pending()

    async def _publish_or_spool(self, batch: list[Record]) -> None:
        try:
            await self._publisher.publish_records(batch)
            self._published += len(batch)
        except _UNREACHABLE as exc:
            log.warning("Redis unreachable (%s): spooling events", exc)
            self._spooling = True
            self._schedule_retry()
            self._spool_records(batch)

    async def _try_flush_spool(self) -> None:
        try:
            await self._publisher.redis.ping()
            while self._spool.pending():
                for batch, end in self._spool.batches(self._settings.batch_size):
                    await self._publisher.publish_records(batch)
                    self._spool.commit(end)
                    self._published += len(batch)
                    if self._queue:  # keep memory bounded and order intact while flushing
                        self._spool_records(self._take_batch())
            self._spool.clear()
            self._spooling = False
            self._backoff_ms = self._settings.reconnect_backoff_ms
            log.info("Redis reachable again: spool re-published")
        except _UNREACHABLE:
            self._schedule_retry()

    def _schedule_retry(self) -> None:
        self._next_retry = time.monotonic() + self._backoff_ms / 1000
        self._backoff_ms = min(self._backoff_ms * 2, self._settings.reconnect_backoff_max_ms)
