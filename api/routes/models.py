"""Model versions, promotion, rollback and manual retraining."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, status

from api.deps import ServicesDep
from api.errors import ApiError
from api.security.guard import allow
from ml.errors import ModelNotFoundError, NoPreviousChampionError, RegistryError
from schemas.api import ModelAction, ModelVersionOut, RetrainAccepted, RetrainRequestIn
from schemas.decisions import RetrainRequest
from schemas.events import ModelPromoted, ModelRolledBack, RetrainRequested
from schemas.models import Promotion, Rollback

__all__ = ["router"]

router = APIRouter(tags=["models"])

_REGISTRY_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such model version."},
    409: {"description": "The alias cannot move (e.g. no earlier champion)."},
    503: {"description": "The registry (MLflow) is unreachable."},
}


def _version_out(info: Any) -> ModelVersionOut:
    return ModelVersionOut(
        name=info.name,
        version=info.version,
        aliases=list(info.aliases),
        created_at=getattr(info, "created_at", None),
        run_id=getattr(info, "run_id", None),
        metrics=dict(getattr(info, "metrics", {}) or {}),
    )


def _registry_error(exc: RegistryError) -> ApiError:
    if isinstance(exc, ModelNotFoundError):
        return ApiError(404, str(exc))
    if isinstance(exc, NoPreviousChampionError):
        return ApiError(409, str(exc))
    return ApiError(503, f"the model registry failed: {exc}")


@router.get(
    "/models",
    response_model=list[ModelVersionOut],
    responses=_REGISTRY_ERRORS,
    dependencies=[allow("operator", "auditor")],
)
async def list_models(services: ServicesDep) -> list[ModelVersionOut]:
    """Every registered version with its aliases and key metrics, newest first."""
    try:
        versions = await asyncio.to_thread(services.registry.versions)
    except RegistryError as exc:
        raise _registry_error(exc) from exc
    return [_version_out(v) for v in versions]


@router.post(
    "/models/{version}/promote",
    response_model=ModelAction,
    responses=_REGISTRY_ERRORS,
    dependencies=[allow("operator")],
)
async def promote(services: ServicesDep, version: int = Path(ge=1, le=2**31 - 1)) -> ModelAction:
    """Make VERSION the champion. Every API replica reloads it (event `model.promoted`)."""
    try:
        previous = await asyncio.to_thread(services.registry.promote, version)
    except RegistryError as exc:
        raise _registry_error(exc) from exc
    event = ModelPromoted(
        source=services.settings.source("api"),
        payload=Promotion(
            model_name=services.settings.model.registered_name,
            version=version,
            previous_version=previous,
            reason="manual promotion through the API",
            actor="api",
        ),
    )
    services.publisher.enqueue(event)
    return ModelAction(
        event_id=event.id, action="promoted", version=version, previous_version=previous
    )


@router.post(
    "/models/rollback",
    response_model=ModelAction,
    responses=_REGISTRY_ERRORS,
    dependencies=[allow("operator")],
)
async def rollback(services: ServicesDep) -> ModelAction:
    """Move `champion` back to the previous champion (event `model.rolled_back`)."""
    try:
        from_version, to_version = await asyncio.to_thread(services.registry.rollback)
    except RegistryError as exc:
        raise _registry_error(exc) from exc
    event = ModelRolledBack(
        source=services.settings.source("api"),
        payload=Rollback(
            model_name=services.settings.model.registered_name,
            from_version=from_version,
            to_version=to_version,
            reason="manual rollback through the API",
            actor="api",
        ),
    )
    services.publisher.enqueue(event)
    return ModelAction(
        event_id=event.id, action="rolled_back", version=to_version, previous_version=from_version
    )


@router.post(
    "/retrain",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RetrainAccepted,
    dependencies=[allow("operator")],
)
async def retrain(services: ServicesDep, body: RetrainRequestIn | None = None) -> RetrainAccepted:
    """Ask the retrainer for a new challenger (event `retrain.requested`, reason manual)."""
    body = body or RetrainRequestIn()
    event = RetrainRequested(
        source=services.settings.source("api"),
        payload=RetrainRequest(reason=body.reason, requested_by="api", detail=body.detail),
    )
    services.publisher.enqueue(event)
    return RetrainAccepted(request_id=event.id)
