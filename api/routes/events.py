"""Reading the streams over HTTP: paged replay, and a live tail as server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.deps import BusDep, SettingsDep
from api.errors import ApiError
from api.security.guard import allow
from bus.replay import valid_stream_id
from schemas.api import EventOut, EventPage
from schemas.catalogue import StreamName

__all__ = ["router"]

router = APIRouter(tags=["events"], dependencies=[allow("operator", "auditor")])

Types = Annotated[list[str] | None, Query(alias="type", description="Only these event types.")]
EntryId = Annotated[str | None, Query(pattern=r"^\d{1,20}-\d{1,20}$", description="Stream id.")]


def _check_entry_id(value: str | None, name: str) -> None:
    if value is not None and not valid_stream_id(value):
        raise ApiError(422, f"{name} {value!r} is not a stream id (<ms>-<seq>, each < 2**64)")


def _after(after: EntryId = None) -> str | None:
    """Checked before the stream starts: an error inside it could no longer be a 422."""
    _check_entry_id(after, "after")
    return after


After = Annotated[str | None, Depends(_after)]


@router.get("/events/{stream}", response_model=EventPage)
async def replay(
    stream: StreamName,
    bus: BusDep,
    settings: SettingsDep,
    since: datetime | None = None,
    until: datetime | None = None,
    types: Types = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100,
    cursor: EntryId = None,
) -> EventPage:
    """Events of STREAM, oldest first, in [since, until], filtered by type; page with
    `cursor` (the previous page's `next_cursor`)."""
    if limit > settings.api.max_events_page:
        raise ApiError(
            422, f"limit is {limit}; at most {settings.api.max_events_page} per page: use cursor"
        )
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(422, "since/until need a time zone, e.g. 2026-01-31T12:00:00Z")
    _check_entry_id(cursor, "cursor")
    page = await bus.read_page(
        stream, since=since, until=until, types=types, limit=limit, cursor=cursor
    )
    return EventPage(
        events=[
            EventOut(entry_id=s.entry_id, event=orjson.loads(s.event.to_json()))
            for s in page.events
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/events/{stream}/live", response_class=EventSourceResponse)
async def live(
    stream: StreamName, bus: BusDep, after: After, types: Types = None
) -> AsyncIterator[ServerSentEvent]:
    """Follow STREAM as server-sent events (`event:` is the type, `id:` the stream id).
    Reconnecting clients resume after `after` (or the `Last-Event-ID` they saw)."""
    async for item in bus.tail(stream, from_id=after or "$", types=types):
        yield ServerSentEvent(
            raw_data=item.event.to_json().decode(), event=item.event.type, id=item.entry_id
        )
