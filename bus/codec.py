"""Stream entry <-> event. An entry has three fields: `id`, `type` and `event` (the JSON).

`id` and `type` are duplicated outside the JSON so that replay filters and dedupe checks
need not parse the body. JSON only, never pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.envelope import Envelope
from schemas.errors import EventDecodeError
from schemas.events import Event, decode_event

__all__ = ["Fields", "decode_fields", "encode_event", "fields_as_text"]

Fields = Mapping[Any, Any]
"""Entry fields as redis-py returns them (bytes) or as the spool stores them (str)."""


def encode_event(event: Envelope) -> dict[str, bytes | str]:
    return {"id": str(event.id), "type": event.type, "event": event.to_json()}


def _get(fields: Fields, name: str) -> bytes | str | None:
    value = fields.get(name.encode())
    if value is None:
        value = fields.get(name)
    return value if isinstance(value, bytes | str) else None


def decode_fields(fields: Fields) -> Event:
    """The event in a stream entry; `EventDecodeError` says what is wrong with it."""
    body = _get(fields, "event")
    if body is None:
        raise EventDecodeError("invalid event: the entry has no 'event' field")
    return decode_event(body)


def fields_as_text(fields: Fields) -> dict[str, str]:
    """Entry fields as text, for dead letters and diagnostics (bytes decoded leniently)."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        v = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        out[k] = v
    return out
