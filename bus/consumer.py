"""The consumer-group runner every consumer is hosted by.

One loop: XAUTOCLAIM idle pending entries (crashed members, failed handlings), XREADGROUP
new ones, validate, call the handler, and acknowledge. Failure handling:

- an entry that is not a valid event goes to `deadletter` at once;
- a handler that raises leaves the entry pending; it is redelivered after
  `reclaim_idle_ms`, and after `max_deliveries` it goes to `deadletter` with the error;
- with `dedupe`, every handled event id is marked done in the same MULTI as its XACK, and
  an event id already done is acknowledged without calling the handler (duplicates come
  from at-least-once publishing: a spool flush after a partial pipeline, a requeue);
- NOGROUP (Redis restarted without persistence) re-creates the group and goes on;
- `stop()` (SIGTERM) finishes and acknowledges what is in hand, then `run()` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bus.codec import decode_fields
from bus.correlation import correlation_id
from bus.deadletter import DeadLetters
from bus.idempotency import DoneMarks
from bus.keys import Keys
from bus.replies import RawFields, stream_entries, text
from schemas.catalogue import StreamName
from schemas.errors import EventDecodeError
from schemas.events import Event
from spamops.settings import BusSettings

__all__ = ["BatchHandler", "Consumer", "ConsumerCounters", "Handler"]

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
BatchHandler = Callable[[list[Event]], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    stream: str
    entry_id: str
    fields: RawFields | None
    deliveries: int
    event: Event | None = None


@dataclass(slots=True)
class ConsumerCounters:
    """Running totals; the metrics module exports them."""

    processed: int = 0
    failed: int = 0
    deadlettered: int = 0
    duplicates: int = 0
    skipped: int = 0
    reclaimed: int = 0
    handle_seconds: float = 0.0
    group_recreated: int = 0
    started_at: float = field(default_factory=time.time)


class Consumer:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        group: str,
        name: str,
        streams: Sequence[StreamName],
        handler: Handler,
        settings: BusSettings,
        dead_letters: DeadLetters,
        event_types: Collection[str] | None = None,
        dedupe: bool = True,
        start_id: str = "0",
        batch_handler: BatchHandler | None = None,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.redis = redis
        self.batch_handler = batch_handler
        self.observe = observe
        """Called with each handling's duration in seconds (metrics)."""
        self.keys = keys
        self.group = group
        self.name = name
        self.handler = handler
        self.settings = settings
        self.dead_letters = dead_letters
        self.event_types = frozenset(event_types) if event_types is not None else None
        self.dedupe = dedupe
        self.start_id = start_id
        self.counters = ConsumerCounters()
        self._streams = [keys.stream(s) for s in streams]
        self._claim_cursor = dict.fromkeys(self._streams, "0-0")
        self._next_reclaim = 0.0
        self._stopping = asyncio.Event()
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self.marks = DoneMarks(redis, keys, group, settings.dedupe_ttl_s)

    def stop(self) -> None:
        """Ask `run` to finish the batch in hand and return (safe from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        self._stopping.clear()
        await self._ensure_groups()
        heartbeat = asyncio.create_task(self._heartbeat_loop(), name=f"heartbeat-{self.name}")
        backoff = 0.1
        try:
            while not self.stopping:
                try:
                    await self.poll_once()
                    backoff = 0.1
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    log.warning("group %s vanished (Redis restarted?): re-creating", self.group)
                    self.counters.group_recreated += 1
                    await self._ensure_groups()
                except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                    log.warning("consumer %s: Redis unreachable (%s); retrying", self.name, exc)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(Exception):
                async with self._bounded():
                    await self.redis.delete(self.keys.heartbeat(self.group, self.name))

    async def poll_once(self) -> int:
        """One reclaim (when due) and one read; returns how many entries were handled."""
        handled = 0
        if time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + self.settings.reclaim_interval_ms / 1000
            async with self._bounded(self.settings.socket_timeout_s):
                reclaimed = await self._reclaim()
            if reclaimed:
                self.counters.reclaimed += len(reclaimed)
                await self._handle(reclaimed)
                handled += len(reclaimed)
        if self.stopping:
            return handled
        entries = await self._read()
        if entries:
            await self._handle(entries)
            handled += len(entries)
        return handled

    async def _ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                async with self._bounded():
                    await self.redis.xgroup_create(
                        stream, self.group, id=self.start_id, mkstream=True
                    )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _bounded(self, extra_s: float = 0.0) -> asyncio.Timeout:
        """A deadline for one Redis round trip (handlers themselves are not bounded)."""
        return asyncio.timeout(self.settings.socket_timeout_s + extra_s)

    async def _read(self) -> list[_Entry]:
        async with self._bounded(self.settings.block_ms / 1000):
            reply = await self.redis.xreadgroup(
                self.group,
                self.name,
                dict.fromkeys(self._streams, ">"),
                count=self.settings.read_count,
                block=self.settings.block_ms,
            )
        return [
            _Entry(stream, eid, fields, 1)
            for stream, rows in stream_entries(reply)
            for eid, fields in rows
        ]

    async def _reclaim(self) -> list[_Entry]:
        out: list[_Entry] = []
        idle = self.settings.reclaim_idle_ms
        for stream in self._streams:
            reply = await self.redis.xautoclaim(
                stream,
                self.group,
                self.name,
                min_idle_time=idle,
                start_id=self._claim_cursor[stream],
                count=self.settings.read_count,
            )
            self._claim_cursor[stream] = text(reply[0])
            claimed: list[tuple[Any, RawFields | None]] = list(reply[1])
            if not claimed:
                continue
            ids = [text(eid) for eid, _ in claimed]
            pending = await self.redis.xpending_range(
                stream,
                self.group,
                min=ids[0],
                max=ids[-1],
                count=len(ids) * 4 + 100,
                consumername=self.name,
            )
            counts = {text(p["message_id"]): int(p["times_delivered"]) for p in pending}
            for eid, (_, fields) in zip(ids, claimed, strict=True):
                entry = _Entry(stream, eid, fields or None, counts.get(eid, 2))
                if entry.fields is None:  # trimmed away while pending (Redis 6.2 reports it)
                    await self.redis.xack(stream, self.group, eid)
                elif entry.deliveries > self.settings.max_deliveries:
                    error = await self.redis.hget(
                        self.keys.last_error(self.group), _error_field(stream, eid)
                    )
                    reason = text(error) if error else "delivered too often (consumer crash?)"
                    await self._dead_letter(entry, reason)
                else:
                    out.append(entry)
        return out

    async def _handle(self, entries: list[_Entry]) -> None:
        to_handle: list[_Entry] = []
        to_ack: list[_Entry] = []
        for entry in entries:
            assert entry.fields is not None
            try:
                entry.event = decode_fields(entry.fields)
            except EventDecodeError as exc:
                await self._dead_letter(entry, str(exc))
                continue
            if self.event_types is not None and entry.event.type not in self.event_types:
                self.counters.skipped += 1
                to_ack.append(entry)
            else:
                to_handle.append(entry)
        if self.dedupe and to_handle:
            to_handle, repeated = _first_of_each_event(to_handle)
            seen = await self._already_done(to_handle)
            duplicates = repeated + [e for e in to_handle if (e.stream, e.entry_id) in seen]
            self.counters.duplicates += len(duplicates)
            to_ack.extend(duplicates)
            to_handle = [e for e in to_handle if (e.stream, e.entry_id) not in seen]
        results = await self._call_all(to_handle)
        done = [e for e, error in zip(to_handle, results, strict=True) if error is None]
        await self._commit(done, to_ack)
        for entry, error in zip(to_handle, results, strict=True):
            if error is not None:
                await self._failed(entry, error)

    async def _call_all(self, entries: list[_Entry]) -> list[BaseException | None]:
        """Handle entries: as one batch when the consumer takes batches, else one by one.

        A batch that fails is retried entry by entry, so one poison event only fails itself.
        """
        if self.batch_handler is not None and len(entries) > 1:
            started = time.perf_counter()
            try:
                await self.batch_handler([e.event for e in entries if e.event is not None])
                return [None] * len(entries)
            except Exception as exc:
                log.warning("batch of %d failed (%s); handling one by one", len(entries), exc)
            finally:
                self.counters.handle_seconds += time.perf_counter() - started
        if self.settings.concurrency == 1:  # no task per entry when nothing runs in parallel
            return [await self._call(e) for e in entries]
        return list(await asyncio.gather(*(self._call(e) for e in entries)))

    async def _call(self, entry: _Entry) -> BaseException | None:
        assert entry.event is not None
        async with self._semaphore:
            token = correlation_id.set(str(entry.event.correlation))
            started = time.perf_counter()
            try:
                await self.handler(entry.event)
            except Exception as exc:
                return exc
            finally:
                elapsed = time.perf_counter() - started
                self.counters.handle_seconds += elapsed
                if self.observe is not None:
                    self.observe(elapsed)
                correlation_id.reset(token)
        return None

    async def _already_done(self, entries: list[_Entry]) -> set[tuple[str, str]]:
        async with self._bounded():
            flags = await self.marks.seen([str(e.event.id) for e in entries if e.event is not None])
        # Entry ids are unique per stream only: two streams can hold the same id.
        return {(e.stream, e.entry_id) for e, flag in zip(entries, flags, strict=True) if flag}

    async def _commit(self, done: list[_Entry], ack_only: list[_Entry]) -> None:
        """Mark handled event ids done and XACK, atomically (one MULTI)."""
        if not done and not ack_only:
            return
        async with self._bounded(), self.redis.pipeline(transaction=True) as pipe:
            if self.dedupe:
                self.marks.mark(pipe, [str(e.event.id) for e in done if e.event is not None])
            by_stream: dict[str, list[str]] = {}
            for e in (*done, *ack_only):
                by_stream.setdefault(e.stream, []).append(e.entry_id)
            for stream, ids in by_stream.items():
                pipe.xack(stream, self.group, *ids)
            await pipe.execute()
        self.counters.processed += len(done)

    async def _failed(self, entry: _Entry, error: BaseException) -> None:
        self.counters.failed += 1
        reason = f"{type(error).__name__}: {error}"
        log.warning(
            "handler failed on %s %s (delivery %d/%d): %s",
            entry.stream,
            entry.entry_id,
            entry.deliveries,
            self.settings.max_deliveries,
            reason,
        )
        if entry.deliveries >= self.settings.max_deliveries:
            await self._dead_letter(entry, reason)
        else:
            async with self._bounded():
                await self.redis.hset(
                    self.keys.last_error(self.group),
                    _error_field(entry.stream, entry.entry_id),
                    reason[:4000],
                )

    async def _dead_letter(self, entry: _Entry, reason: str) -> None:
        assert entry.fields is not None
        if entry.stream == self.dead_letters.stream:
            # Never dead-letter a dead letter: that could loop forever. Keep it and move on.
            log.error("dead letter %s could not be handled: %s", entry.entry_id, reason)
            async with self._bounded():
                await self.redis.xack(entry.stream, self.group, entry.entry_id)
            return
        async with self._bounded():
            await self.dead_letters.send(
                stream=entry.stream,
                entry_id=entry.entry_id,
                fields=entry.fields,
                group=self.group,
                consumer=self.name,
                deliveries=entry.deliveries,
                error=reason,
            )
        self.counters.deadlettered += 1

    async def _heartbeat_loop(self) -> None:
        interval = self.settings.heartbeat_interval_s
        key = self.keys.heartbeat(self.group, self.name)
        while True:
            c = self.counters
            beat = {
                "pid": os.getpid(),
                "at": time.time(),
                "processed": c.processed,
                "failed": c.failed,
                "deadlettered": c.deadlettered,
            }
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError, OSError):
                async with self._bounded():
                    await self.redis.set(key, orjson.dumps(beat), ex=max(int(interval * 3), 1))
            await asyncio.sleep(interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _first_of_each_event(entries: list[_Entry]) -> tuple[list[_Entry], list[_Entry]]:
    """Split a batch into the first entry of each event id and the repeats after it."""
    first: dict[object, _Entry] = {}
    repeats: list[_Entry] = []
    for entry in entries:
        assert entry.event is not None
        if entry.event.id in first:
            repeats.append(entry)
        else:
            first[entry.event.id] = entry
    return list(first.values()), repeats


def _error_field(stream: str, entry_id: str) -> str:
    """Key of an entry's last error: entry ids repeat across streams, so both are needed."""
    return f"{stream}|{entry_id}"
