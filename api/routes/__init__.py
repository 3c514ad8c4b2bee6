"""Every router of the API, gathered in one place."""

from fastapi import APIRouter

from api.routes import events, feedback, health, history, models, predict

__all__ = ["api_router"]

api_router = APIRouter()
for module in (health, predict, feedback, models, history, events):
    api_router.include_router(module.router)
