"""Aggregate reads for the dashboard: traffic per minute, the newest predictions, bus health,
and a prediction's audit trail.

role: operator/auditor (every route here, guarded on the router; the dashboard signs in as
an operator).

The dashboard reads the system only through the API; these are the views the other routes
lack. Traffic and the audit trail come from the SQL store (a projection, so a
second or so behind); the newest predictions and the bus figures come from Redis itself,
so the Live page shows a prediction the moment it is published.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from redis.exceptions import RedisError

from api.deps import ServicesDep
from api.errors import ApiError
from api.routes.history import read_store
from api.security.guard import allow
from bus.codec import decode_fields
from bus.replay import valid_stream_id
from bus.replies import entries
from schemas.catalogue import StreamName
from schemas.common import Label, ModelRef, Variant
from schemas.errors import EventDecodeError
from schemas.events import PredictionMade
from store.queries.dashboard import (
    PredictionAudit,
    TrafficSummary,
    prediction_audit,
    traffic_per_minute,
)

__all__ = ["router"]

router = APIRouter(
    prefix="/dashboard", tags=["dashboard"], dependencies=[allow("operator", "auditor")]
)


class LivePrediction(BaseModel):
    """A prediction as the Live page lists it (no token hashes; text only if not redacted)."""

    entry_id: str
    event_id: uuid.UUID
    occurred_at: datetime
    prediction_id: uuid.UUID
    label: Label
    spam_probability: float
    model: ModelRef
    variant: Variant
    latency_ms: float
    client_id: str | None
    text: str | None


class LivePage(BaseModel):
    predictions: list[LivePrediction]
    """Newest first."""
    newest_entry_id: str | None
    """Pass as `after` next time to get only what arrived since (None: the stream is empty)."""


class GroupHealth(BaseModel):
    name: str
    consumers: int
    pending: int
    lag: int
    lag_exact: bool


class StreamHealth(BaseModel):
    stream: StreamName
    length: int
    groups: list[GroupHealth]


class BusHealth(BaseModel):
    streams: list[StreamHealth]
    queued_events: int
    """Events this API replica holds in memory, not yet on the bus."""
    spooled_events: int
    dropped_events: int
    spooling: bool


@router.get("/traffic", response_model=TrafficSummary)
async def traffic(
    services: ServicesDep,
    minutes: Annotated[int, Query(ge=1, le=1440, description="How far back.")] = 60,
) -> Any:
    """Predictions, spam rate, challenger share and latency per minute, oldest first.
    role: operator/auditor"""
    until = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    since = until - timedelta(minutes=minutes)
    return await read_store(services, lambda s: traffic_per_minute(s, since=since, until=until))


def _live(entry_id: str, fields: dict[bytes, bytes]) -> LivePrediction | None:
    try:
        event = decode_fields(fields)
    except EventDecodeError:
        return None
    if not isinstance(event, PredictionMade):
        return None
    p = event.payload
    return LivePrediction(
        entry_id=entry_id,
        event_id=event.id,
        occurred_at=event.occurred_at,
        prediction_id=p.prediction_id,
        label=p.label,
        spam_probability=p.spam_probability,
        model=p.model,
        variant=p.variant,
        latency_ms=p.latency_ms,
        client_id=p.client_id,
        text=p.text,
    )


@router.get("/predictions/latest", response_model=LivePage)
async def latest_predictions(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    after: Annotated[
        str | None, Query(pattern=r"^\d{1,20}-\d{1,20}$", description="Only newer entries.")
    ] = None,
) -> LivePage:
    """The newest predictions straight from the `predictions` stream, newest first.
    role: operator/auditor"""
    if after is not None and not valid_stream_id(after):
        raise ApiError(422, f"after {after!r} is not a stream id (<ms>-<seq>, each < 2**64)")
    bus = services.bus
    try:
        reply = await bus.redis.xrevrange(
            bus.keys.stream(StreamName.PREDICTIONS),
            max="+",
            min=f"({after}" if after else "-",
            count=limit,
        )
    except RedisError as exc:
        raise ApiError(503, f"the bus (Redis) cannot be read: {exc}") from exc
    rows = entries(reply)
    found = [p for p in (_live(entry_id, fields) for entry_id, fields in rows) if p]
    return LivePage(predictions=found, newest_entry_id=rows[0][0] if rows else after)


@router.get("/bus", response_model=BusHealth)
async def bus_health(services: ServicesDep) -> BusHealth:
    """Length of every stream, and each consumer group's pending entries and lag; this
    replica's publish queue and spool. role: operator/auditor"""
    try:
        stats = await services.bus.stats()
    except RedisError as exc:
        raise ApiError(503, f"the bus (Redis) cannot be read: {exc}") from exc
    publisher = services.publisher.stats
    return BusHealth(
        streams=[
            StreamHealth(
                stream=s.stream,
                length=s.length,
                groups=[
                    GroupHealth(
                        name=g.name,
                        consumers=g.consumers,
                        pending=g.pending,
                        lag=g.lag,
                        lag_exact=g.lag_exact,
                    )
                    for g in s.groups
                ],
            )
            for s in stats
        ],
        queued_events=publisher.queued,
        spooled_events=publisher.spooled,
        dropped_events=publisher.dropped,
        spooling=publisher.spooling,
    )


@router.get("/audit/predictions/{prediction_id}", response_model=PredictionAudit)
async def audit_prediction(
    services: ServicesDep, prediction_id: Annotated[uuid.UUID, Path()]
) -> Any:
    """Which model classified this message, with what score, the label it got later, and
    the alias move that had put that model in service. role: operator/auditor"""
    found = await read_store(services, lambda s: prediction_audit(s, prediction_id))
    if found is None:
        raise ApiError(
            404,
            f"no prediction {prediction_id} in the store: check the id, or wait a moment if it "
            "was just made (the projector writes it within seconds)",
        )
    return found
