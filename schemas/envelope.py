"""The event envelope shared by every event on the bus.

An event is an envelope (identity, time, provenance, correlation) around a typed payload.
Each concrete event class fixes `type` to a literal so that a discriminated union can pick
the right class when decoding; see `schemas.registry`.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from uuid_utils.compat import uuid7

__all__ = ["Envelope", "Payload", "new_id", "utcnow"]


def new_id() -> UUID:
    """A time-ordered UUIDv7: unique, sortable, and usable as an idempotency key."""
    return uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _default_source() -> str:
    return f"spamops@{socket.gethostname()}"


class Payload(BaseModel):
    """Base of every event body: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """Identity and provenance of an event. Concrete events narrow `type` and `payload`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: UUID = Field(default_factory=new_id, description="UUIDv7; the idempotency key.")
    type: str
    schema_version: int = Field(default=1, alias="schema", ge=1)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    source: str = Field(default_factory=_default_source, min_length=1, max_length=200)
    correlation: UUID = Field(
        default=None,  # type: ignore[assignment]  # filled from `id` by the validator below
        description="Ties a chain of events together; defaults to the event's own id.",
    )
    payload: Payload

    @model_validator(mode="before")
    @classmethod
    def _default_correlation(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("correlation") is None:
            data = dict(data)
            event_id = data.get("id")
            if event_id is None:
                event_id = new_id()
                data["id"] = event_id
            data["correlation"] = event_id
        return data

    @model_validator(mode="after")
    def _utc(self) -> Self:
        if self.occurred_at.utcoffset() != UTC.utcoffset(None):
            try:
                utc = self.occurred_at.astimezone(UTC)
            except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00: a ValidationError
                raise ValueError("occurred_at is out of range once converted to UTC") from None
            object.__setattr__(self, "occurred_at", utc)
        return self

    def to_json(self) -> bytes:
        """Canonical wire form: JSON with the `schema` alias, UTC timestamps."""
        return self.model_dump_json(by_alias=True).encode()
