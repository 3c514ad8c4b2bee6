"""`GET /metrics`: Prometheus exposition (needs an operator or auditor credential; give
Prometheus an API key, see deploy/prometheus.yml)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE_LATEST
from api.security.guard import allow

__all__ = ["router"]

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, dependencies=[allow("operator", "auditor")])
async def metrics(services: ServicesDep) -> Response:
    """Request rates and latency, predictions, the publish queue, the serving model."""
    services.metrics.observe_publisher(services.publisher.stats)
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
