"""Publishing events to their streams, with each stream's retention applied on write."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bus.codec import encode_event
from bus.keys import Keys
from schemas.catalogue import StreamName, StreamSpec, stream_for
from schemas.envelope import Envelope

__all__ = ["Publisher", "Record", "Trim"]


@dataclass(frozen=True, slots=True)
class Trim:
    """XADD trimming arguments for one stream: MAXLEN ~ n, or MINID ~ (now - age)."""

    maxlen: int | None = None
    max_age_ms: int | None = None

    def xadd_kwargs(self, now_ms: int) -> dict[str, Any]:
        if self.maxlen is not None:
            return {"maxlen": self.maxlen, "approximate": True}
        if self.max_age_ms is not None:
            return {"minid": str(now_ms - self.max_age_ms), "approximate": True}
        return {}


@dataclass(frozen=True, slots=True)
class Record:
    """An encoded event, ready for XADD (also what the spool stores)."""

    stream: str
    fields: dict[str, bytes | str]


class Publisher:
    """Writes events straight to Redis. Request paths use `BufferedPublisher` instead."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        streams: dict[StreamName, StreamSpec],
        timeout_s: float = 5.0,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.timeout_s = timeout_s
        self._trims: dict[str, Trim] = {}
        for name, spec in streams.items():
            age = spec.retention.max_age
            self._trims[keys.stream(name)] = Trim(
                maxlen=spec.retention.maxlen,
                max_age_ms=int(age.total_seconds() * 1000) if age else None,
            )

    def encode(self, event: Envelope) -> Record:
        return Record(self.keys.stream(stream_for(event.type)), encode_event(event))

    async def publish(self, event: Envelope) -> str:
        """XADD one event; returns its stream entry id."""
        record = self.encode(event)
        trim = self.trim(record.stream).xadd_kwargs(int(time.time() * 1000))
        async with asyncio.timeout(self.timeout_s):
            entry_id = await self.redis.xadd(record.stream, record.fields, **trim)  # type: ignore[arg-type]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def publish_many(self, events: Iterable[Envelope]) -> list[str]:
        """XADD many events in one pipelined round trip; returns their entry ids in order."""
        return await self.publish_records([self.encode(e) for e in events])

    async def publish_records(self, records: Sequence[Record]) -> list[str]:
        if not records:
            return []
        now_ms = int(time.time() * 1000)
        async with asyncio.timeout(self.timeout_s), self.redis.pipeline(transaction=False) as pipe:
            for record in records:
                trim = self.trim(record.stream).xadd_kwargs(now_ms)
                pipe.xadd(record.stream, record.fields, **trim)  # type: ignore[arg-type]
            ids = await pipe.execute()
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    def trim(self, stream: str) -> Trim:
        """The retention applied when writing to `stream` (a stream key)."""
        return self._trims.get(stream, Trim())
