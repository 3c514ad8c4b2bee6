"""The app factory. The composition root (`spamops serve`) gives it settings, a Redis
client and the model registry; the lifespan opens and closes everything else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis

from api.errors import install_error_handlers
from api.limits import BodyLimit
from api.routes import api_router
from api.security.access import AccessLog
from api.services import open_services
from bus.bus import RedisBus
from ml.protocols import ModelSource
from spamops.settings import Settings

__all__ = ["create_app"]

DESCRIPTION = """
Classifies SMS messages as spam or ham in about a millisecond. Every prediction, feedback
label and model change is published as an event on Redis Streams; monitoring, retraining
and auditing happen in consumers, never on the request path.
"""


def create_app(
    settings: Settings, redis: Callable[[], Redis], registry: Callable[[], ModelSource]
) -> FastAPI:
    """`redis` and `registry` are factories, called in the lifespan (not at import)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus = RedisBus(redis(), settings, component="api")
        services = await open_services(settings, bus, registry())
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    docs = settings.api.docs if settings.api.docs is not None else settings.env != "production"
    app = FastAPI(
        title="spamops",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        )
    app.add_middleware(AccessLog, source=settings.source("api"))
    install_error_handlers(app)
    app.include_router(api_router)
    return app
