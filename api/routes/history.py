"""Reads of the SQL store: drift, performance, retraining, comparisons, decisions, alerts.

The store is a projection of the streams, written by the projector consumer; these routes
only read it. Queries run in a thread (SQLAlchemy is synchronous here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.errors import ApiError
from api.security.guard import allow
from schemas.common import Severity
from schemas.decisions import Action
from store import queries
from store.engine import read_session
from store.errors import StoreError
from store.records import (
    AlertRecord,
    AliasChangeRecord,
    ComparisonRecord,
    DecisionRecord,
    DriftWindowRecord,
    PerformanceWindowRecord,
    RetrainingRunRecord,
)

__all__ = ["read_store", "router"]

router = APIRouter(tags=["history"], dependencies=[allow("operator", "auditor")])

T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=1000)]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


async def read_store(services: ServicesDep, query: Callable[[Session], T]) -> T:
    def run() -> T:
        with read_session(services.store()) as session:
            return query(session)

    try:
        return await asyncio.to_thread(run)
    except StoreError as exc:
        raise ApiError(503, f"the history store cannot be read: {exc}") from exc


def _found(value: T | None, what: str) -> T:
    if value is None:
        raise ApiError(404, what)
    return value


def _aware(*moments: datetime | None) -> None:
    if any(m is not None and m.tzinfo is None for m in moments):
        raise ApiError(422, "times need a time zone, e.g. 2026-01-31T12:00:00Z")


@router.get("/drift/latest", response_model=DriftWindowRecord)
async def latest_drift(services: ServicesDep, model_version: Version = None) -> Any:
    """The newest drift window: every statistic, its threshold, the verdict, top tokens."""
    record = await read_store(
        services, lambda s: queries.latest_drift_window(s, model_version=model_version)
    )
    return _found(record, "no drift windows yet: send traffic to /predict")


@router.get("/drift", response_model=list[DriftWindowRecord])
async def drift(
    services: ServicesDep,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: Version = None,
    limit: Limit = 500,
) -> Any:
    """Drift windows in [since, until], oldest first."""
    _aware(since, until)
    return await read_store(
        services,
        lambda s: queries.drift_windows(
            s, since=since, until=until, model_version=model_version, limit=limit
        ),
    )


@router.get("/performance", response_model=list[PerformanceWindowRecord])
async def performance(
    services: ServicesDep,
    since: datetime | None = None,
    model_version: Version = None,
    limit: Limit = 500,
) -> Any:
    """Quality on labelled live traffic, per window and model version."""
    _aware(since)
    return await read_store(
        services,
        lambda s: queries.performance_windows(
            s, since=since, model_version=model_version, limit=limit
        ),
    )


@router.get("/retraining/history", response_model=list[RetrainingRunRecord])
async def retraining_history(services: ServicesDep, limit: Limit = 50) -> Any:
    """Retraining runs, newest first: why, what was trained, how it compared, the outcome."""
    return await read_store(services, lambda s: queries.retraining_history(s, limit=limit))


@router.get("/models/comparison", response_model=ComparisonRecord)
async def latest_comparison(services: ServicesDep) -> Any:
    """The latest champion/challenger comparison: both metric sets, McNemar, the verdict."""
    name = services.settings.model.registered_name
    record = await read_store(services, lambda s: queries.latest_comparison(s, model_name=name))
    return _found(record, "no comparison yet: one follows the first retraining")


@router.get("/models/history", response_model=list[AliasChangeRecord])
async def alias_history(services: ServicesDep, limit: Limit = 100) -> Any:
    """Every promotion and rollback, newest first."""
    name = services.settings.model.registered_name
    return await read_store(
        services, lambda s: queries.alias_history(s, model_name=name, limit=limit)
    )


@router.get("/decisions", response_model=list[DecisionRecord])
async def decisions(
    services: ServicesDep,
    since: datetime | None = None,
    action: Action | None = None,
    limit: Limit = 100,
) -> Any:
    """The agent's decisions with their inputs and rationale, newest first."""
    _aware(since)
    return await read_store(
        services, lambda s: queries.decisions(s, since=since, action=action, limit=limit)
    )


@router.get("/alerts", response_model=list[AlertRecord])
async def alerts(
    services: ServicesDep,
    since: datetime | None = None,
    severity: Severity | None = None,
    limit: Limit = 100,
) -> Any:
    """Alerts raised, with their delivery status per channel, newest first."""
    _aware(since)
    return await read_store(
        services, lambda s: queries.alerts(s, since=since, severity=severity, limit=limit)
    )
