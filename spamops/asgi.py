"""The API's composition root: settings from the environment, Redis, the MLflow registry.

`uvicorn spamops.asgi:create --factory` (what `spamops serve` runs) calls `create` in every
worker process, so nothing is built at import time.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from bus.connection import connect
from spamops.runtime import redis_url
from spamops.settings import Settings, load_settings

__all__ = ["build_app", "create"]


def build_app(settings: Settings) -> FastAPI:
    from ml.registry import ModelRegistry  # heavy (MLflow): only where the API runs

    return create_app(
        settings,
        redis=lambda: connect(redis_url(settings), settings.bus),
        registry=lambda: ModelRegistry(settings),
    )


def create() -> FastAPI:
    return build_app(load_settings())
