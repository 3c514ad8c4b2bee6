"""The bus: one object that publishes, hosts consumers, replays and reports on streams.

`Bus` is the protocol the rest of the system depends on; `RedisBus` is the implementation
on `redis.asyncio`. Unit tests give `RedisBus` a fakeredis client; integration tests a real
server. It is opened in a composition root (app lifespan, consumer runner, CLI) and closed
there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis

from bus.buffered import BufferedPublisher
from bus.connection import connect
from bus.consumer import BatchHandler, Consumer, Handler
from bus.deadletter import DeadLetters
from bus.keys import Keys
from bus.publisher import Publisher
from bus.replay import Page, StoredEvent, read_page, replay, tail
from bus.spool import Spool
from bus.stats import StreamStats, stream_stats
from schemas.catalogue import StreamName, catalogue
from schemas.envelope import Envelope
from spamops.settings import Settings

__all__ = ["Bus", "RedisBus"]


class Bus(Protocol):
    async def publish(self, event: Envelope) -> str: ...

    async def publish_many(self, events: Iterable[Envelope]) -> list[str]: ...

    async def read_page(
        self,
        stream: StreamName,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Collection[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page: ...

    def replay(
        self,
        stream: StreamName,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Collection[str] | None = None,
    ) -> AsyncIterator[StoredEvent]: ...

    def tail(
        self, stream: StreamName, *, from_id: str = "$", types: Collection[str] | None = None
    ) -> AsyncIterator[StoredEvent]: ...

    async def stats(self) -> list[StreamStats]: ...


class RedisBus:
    def __init__(self, redis: Redis, settings: Settings, *, component: str = "spamops") -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.stream_prefix)
        self.source = settings.source(component)
        self.publisher = Publisher(
            redis, self.keys, catalogue(settings), timeout_s=settings.bus.socket_timeout_s
        )
        self.dead_letters = DeadLetters(redis, self.keys, self.publisher, self.source)

    @classmethod
    def from_url(cls, url: str, settings: Settings, *, component: str = "spamops") -> RedisBus:
        return cls(connect(url, settings.bus), settings, component=component)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def publish(self, event: Envelope) -> str:
        return await self.publisher.publish(event)

    async def publish_many(self, events: Iterable[Envelope]) -> list[str]:
        return await self.publisher.publish_many(events)

    def buffered(self) -> BufferedPublisher:
        """A request-path publisher spooling to `settings.spool_file`; call `start()` on it."""
        return BufferedPublisher(self.publisher, Spool(self.settings.spool_file), self.settings.bus)

    def consumer(
        self,
        *,
        group: str,
        name: str,
        streams: Sequence[StreamName],
        handler: Handler,
        event_types: Collection[str] | None = None,
        dedupe: bool = True,
        start_id: str = "0",
        batch_handler: BatchHandler | None = None,
    ) -> Consumer:
        return Consumer(
            self.redis,
            self.keys,
            group=group,
            name=name,
            streams=streams,
            handler=handler,
            settings=self.settings.bus,
            dead_letters=self.dead_letters,
            event_types=event_types,
            dedupe=dedupe,
            start_id=start_id,
            batch_handler=batch_handler,
        )

    async def read_page(
        self,
        stream: StreamName,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Collection[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        return await read_page(
            self.redis,
            self.keys.stream(stream),
            since=since,
            until=until,
            types=types,
            limit=limit,
            cursor=cursor,
        )

    def replay(
        self,
        stream: StreamName,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Collection[str] | None = None,
    ) -> AsyncIterator[StoredEvent]:
        return replay(self.redis, self.keys.stream(stream), since=since, until=until, types=types)

    def tail(
        self, stream: StreamName, *, from_id: str = "$", types: Collection[str] | None = None
    ) -> AsyncIterator[StoredEvent]:
        return tail(self.redis, self.keys.stream(stream), from_id=from_id, types=types)

    async def stats(self) -> list[StreamStats]:
        return await stream_stats(self.redis, self.keys)
