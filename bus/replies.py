"""Typed views of raw redis-py replies (its async stubs type them as `Any | str | int`)."""

from __future__ import annotations

from typing import Any

__all__ = ["RawFields", "entries", "stream_entries", "text"]

RawFields = dict[bytes, bytes]


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def entries(reply: Any) -> list[tuple[str, RawFields]]:
    """XRANGE / XREVRANGE / XCLAIM rows as (entry id, fields)."""
    return [(text(eid), fields) for eid, fields in reply or []]


def stream_entries(reply: Any) -> list[tuple[str, list[tuple[str, RawFields]]]]:
    """XREAD / XREADGROUP replies as (stream key, rows)."""
    return [(text(stream), entries(rows)) for stream, rows in reply or []]
