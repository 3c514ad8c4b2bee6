"""Every router of the API, gathered in one place."""

from fastapi import APIRouter

from api.routes import (
    abtests,
    auth,
    dashboard,
    events,
    feedback,
    health,
    history,
    metrics,
    models,
    predict,
)

__all__ = ["api_router"]

api_router = APIRouter()
for module in (
    health,
    auth,
    predict,
    feedback,
    models,
    abtests,
    history,
    events,
    dashboard,
    metrics,
):
    api_router.include_router(module.router)
