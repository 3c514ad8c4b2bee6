"""Reading history back: paged replay by time range and type, and a live tail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from bus.codec import decode_fields
from bus.replies import entries, stream_entries
from schemas.errors import EventDecodeError
from schemas.events import Event

__all__ = ["Page", "StoredEvent", "read_page", "replay", "stream_id_at", "tail", "valid_stream_id"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    entry_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class Page:
    events: list[StoredEvent]
    next_cursor: str | None
    """Pass as `cursor` to read the next page; None when the range is exhausted."""
    undecodable: int = 0


_MAX_PART = 2**64 - 1


def stream_id_at(moment: datetime, *, end: bool = False) -> str:
    """The stream id bounding `moment` (stream ids start with the epoch milliseconds)."""
    ms = min(max(int(moment.timestamp() * 1000), 0), _MAX_PART)
    return f"{ms}-{_MAX_PART if end else 0}"


def valid_stream_id(entry_id: str) -> bool:
    """True for `<ms>-<seq>` with both parts in Redis' unsigned 64-bit range."""
    ms, sep, seq = entry_id.partition("-")
    return bool(sep) and ms.isdigit() and seq.isdigit() and max(int(ms), int(seq)) <= _MAX_PART


def _after(entry_id: str) -> str:
    ms, seq = entry_id.split("-")
    if int(seq) == _MAX_PART:
        return f"{int(ms) + 1}-0"
    return f"{ms}-{int(seq) + 1}"


async def read_page(
    redis: Redis,
    stream: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: Collection[str] | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Up to `limit` events of `stream` in [since, until], oldest first, filtered by type."""
    start = cursor or (stream_id_at(since) if since else "-")
    stop = stream_id_at(until, end=True) if until else "+"
    wanted = frozenset(types) if types else None
    found: list[StoredEvent] = []
    undecodable = 0
    while len(found) < limit:
        rows = entries(await redis.xrange(stream, min=start, max=stop, count=max(limit, 100)))
        if not rows:
            return Page(found, None, undecodable)
        for entry_id, fields in rows:
            start = _after(entry_id)
            kind = fields.get(b"type", b"").decode("utf-8", "replace")
            if wanted is not None and kind not in wanted:
                continue
            try:
                found.append(StoredEvent(entry_id, decode_fields(fields)))
            except EventDecodeError:
                undecodable += 1
                continue
            if len(found) >= limit:
                return Page(found, start, undecodable)
    return Page(found, start, undecodable)


async def replay(
    redis: Redis,
    stream: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: Collection[str] | None = None,
    page_size: int = 500,
) -> AsyncIterator[StoredEvent]:
    """Every event of `stream` in [since, until], oldest first, paging with XRANGE."""
    cursor: str | None = None
    while True:
        page = await read_page(
            redis, stream, since=since, until=until, types=types, limit=page_size, cursor=cursor
        )
        for item in page.events:
            yield item
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def tail(
    redis: Redis,
    stream: str,
    *,
    from_id: str = "$",
    types: Collection[str] | None = None,
    block_ms: int = 1000,
) -> AsyncIterator[StoredEvent]:
    """New events as they arrive (XREAD BLOCK); runs until the caller stops iterating."""
    last = from_id
    if last == "$":  # pin "now" once, or entries between two XREADs would be missed
        newest = entries(await redis.xrevrange(stream, count=1))
        last = newest[0][0] if newest else "0-0"
    wanted = frozenset(types) if types else None
    while True:
        reply = await redis.xread({stream: last}, count=100, block=block_ms)
        for _, rows in stream_entries(reply):
            for entry_id, fields in rows:
                last = entry_id
                kind = fields.get(b"type", b"").decode("utf-8", "replace")
                if wanted is not None and kind not in wanted:
                    continue
                try:
                    yield StoredEvent(last, decode_fields(fields))
                except EventDecodeError:
                    continue
