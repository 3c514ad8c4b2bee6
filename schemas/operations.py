"""Payloads of the operational streams: `alerts`, `access` and `deadletter`."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.common import Severity
from schemas.envelope import Payload

__all__ = ["Access", "Alert", "AlertDelivery", "DeadLetter"]


class Alert(Payload):
    severity: Severity
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=10_000)
    dedupe_key: str = Field(min_length=1, max_length=300)
    source_event_id: UUID | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class AlertDelivery(Payload):
    alert_id: UUID = Field(description="Id of the `alert.raised` event.")
    channel: str = Field(min_length=1, max_length=100)
    ok: bool
    attempts: int = Field(ge=1)
    latency_ms: float = Field(ge=0)
    error: str | None = None


class Access(Payload):
    """One authenticated API call. Never carries message texts or credentials."""

    principal: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=50)
    method: str = Field(max_length=10)
    route: str = Field(max_length=300)
    status: int = Field(ge=100, le=599)
    latency_ms: float = Field(ge=0)
    client: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, max_length=200)


class DeadLetter(Payload):
    """A stream entry that could not be handled, kept verbatim so it can be requeued."""

    stream: str
    entry_id: str
    group: str
    consumer: str
    deliveries: int = Field(ge=0)
    error: str = Field(max_length=4000)
    fields: dict[str, str] = Field(description="The original entry's fields, as received.")
