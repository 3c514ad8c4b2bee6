"""`GET /health` (the process lives) and `GET /ready` (it can serve)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import ServicesDep
from api.security.guard import allow
from api.security.principal import ROLES
from schemas.api import ReadyOut

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answers as long as the process runs. Needs no credentials."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut}},
    dependencies=[allow(*ROLES)],
)
async def ready(services: ServicesDep, response: Response) -> ReadyOut:
    """Readiness: a model is loaded and events are being published (or safely spooled).

    `degraded` means the model came from the local cache because the registry was
    unreachable, or events are being spooled because Redis is; `/predict` still answers.
    """
    serving = services.holder.current
    stats = services.publisher.stats
    degraded = stats.spooling or (serving is not None and serving.source == "cache")
    if serving is None:
        response.status_code = 503
    return ReadyOut(
        status="unavailable" if serving is None else "degraded" if degraded else "ok",
        model=serving.model.ref if serving else None,
        model_source=serving.source if serving else "none",
        bus="spooling" if stats.spooling else "connected",
        queued_events=stats.queued,
        spooled_events=stats.spooled,
        dropped_events=stats.dropped,
    )
