"""A/B tests: start, list, inspect, stop. Evaluation happens in the `abtest` consumer."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import ServicesDep
from api.errors import ApiError
from api.routes.history import read_store
from api.security.guard import allow
from ml.errors import MLError
from schemas.abtests import AbTestConclusion, AbTestStart
from schemas.api import AbTestAccepted, AbTestRequest
from schemas.common import ModelRef
from schemas.envelope import new_id
from schemas.events import AbTestConcluded, AbTestStarted
from store import queries
from store.records import AbTestRecord

__all__ = ["router"]

router = APIRouter(tags=["abtests"])


@router.post(
    "/abtests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AbTestAccepted,
    dependencies=[allow("operator")],
    responses={
        409: {"description": "A test is already running, or the challenger is the champion."}
    },
)
async def start(body: AbTestRequest, services: ServicesDep) -> AbTestAccepted:
    """Route `split` of the traffic (or shadow all of it) to CHALLENGER_VERSION; every
    replica follows (event `abtest.started`)."""
    serving = services.predictor.serving()
    champion = serving.model.ref
    if services.abtests.current is not None:
        raise ApiError(
            409,
            f"A/B test {services.abtests.current.spec.abtest_id} is running; "
            "stop it first (POST /abtests/{id}/stop)",
        )
    if body.challenger_version == champion.version:
        raise ApiError(409, f"v{body.challenger_version} is the champion; test another version")
    try:
        await asyncio.to_thread(services.registry.load_version, body.challenger_version)
    except MLError as exc:
        raise ApiError(404, f"cannot load v{body.challenger_version}: {exc}") from exc
    name = champion.name
    defaults = services.settings.abtest
    abtest_id = new_id()
    event = AbTestStarted(
        source=services.settings.source("api"),
        payload=AbTestStart(
            abtest_id=abtest_id,
            champion=ModelRef(name=name, version=champion.version, alias="champion"),
            challenger=ModelRef(name=name, version=body.challenger_version, alias="challenger"),
            mode=body.mode,
            split=body.split or defaults.split,
            routing_key=body.routing_key,
            min_samples=body.min_samples or defaults.min_samples,
            min_effect=body.min_effect or defaults.min_effect,
            alpha=body.alpha or defaults.alpha,
            max_duration_s=body.max_duration_s or defaults.max_duration_s,
            started_by="api",
        ),
    )
    services.publisher.enqueue(event)
    return AbTestAccepted(abtest_id=abtest_id, event_id=event.id)


@router.get(
    "/abtests", response_model=list[AbTestRecord], dependencies=[allow("operator", "auditor")]
)
async def list_tests(services: ServicesDep) -> Any:
    """A/B tests, newest first, with their latest per-arm figures and outcome."""
    return await read_store(services, lambda s: queries.abtests(s, limit=100))


@router.get(
    "/abtests/{abtest_id}", response_model=AbTestRecord, dependencies=[allow("operator", "auditor")]
)
async def one_test(abtest_id: UUID, services: ServicesDep) -> Any:
    record = await read_store(services, lambda s: queries.abtest(s, abtest_id))
    if record is None:
        raise ApiError(404, f"no A/B test {abtest_id}")
    return record


@router.post(
    "/abtests/{abtest_id}/stop",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AbTestAccepted,
    dependencies=[allow("operator")],
)
async def stop(abtest_id: UUID, services: ServicesDep) -> AbTestAccepted:
    """End the test now with no winner (event `abtest.concluded`, reason `stopped`)."""
    current = services.abtests.current
    if current is None or current.spec.abtest_id != abtest_id:
        raise ApiError(404, f"A/B test {abtest_id} is not running")
    # Claim the conclusion as the evaluator does, so it cannot also conclude this test.
    await services.bus.redis.sadd(services.bus.keys.state("abtest:concluded"), str(abtest_id))
    event = AbTestConcluded(
        source=services.settings.source("api"),
        correlation=abtest_id,
        payload=AbTestConclusion(
            abtest_id=abtest_id,
            winner="none",
            reason="stopped",
            effect=0.0,
            ci_low=0.0,
            ci_high=0.0,
            p_value=1.0,
            arms=(),
        ),
    )
    services.publisher.enqueue(event)
    return AbTestAccepted(abtest_id=abtest_id, event_id=event.id)
