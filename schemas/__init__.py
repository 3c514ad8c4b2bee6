"""Typed events of spamops: the envelope, every payload, the stream catalogue."""

from schemas.catalogue import STREAM_OF_TYPE, StreamName, StreamSpec, catalogue, stream_for
from schemas.envelope import Envelope, Payload, new_id, utcnow
from schemas.errors import EventDecodeError, SchemaError
from schemas.events import EVENT_CLASSES, Event, decode_event

__all__ = [
    "EVENT_CLASSES",
    "STREAM_OF_TYPE",
    "Envelope",
    "Event",
    "EventDecodeError",
    "Payload",
    "SchemaError",
    "StreamName",
    "StreamSpec",
    "catalogue",
    "decode_event",
    "new_id",
    "stream_for",
    "utcnow",
]
