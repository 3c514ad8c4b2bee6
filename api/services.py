"""What a running API holds, opened in the lifespan and closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from api.abtests import AbTestFollower, AbTestRouter
from api.follower import ModelFollower
from api.holder import ModelHolder
from api.metrics import ApiMetrics
from api.predictor import Predictor
from api.security.guard import Authenticator
from bus.buffered import BufferedPublisher
from bus.bus import RedisBus
from ml.protocols import ModelSource
from spamops.settings import Settings
from store.engine import create_store_engine

__all__ = ["Services", "open_services"]

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    bus: RedisBus
    publisher: BufferedPublisher
    holder: ModelHolder
    registry: ModelSource
    predictor: Predictor
    follower: ModelFollower
    abtests: AbTestRouter
    auth: Authenticator
    metrics: ApiMetrics
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _engine: Engine | None = None

    def store(self) -> Engine:
        """The history store, opened on first use (the request path never needs it)."""
        if self._engine is None:
            self._engine = create_store_engine(self.settings)
        return self._engine

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.publisher.close()
        await self.bus.close()
        if self._engine is not None:
            self._engine.dispose()


async def _observe(services: Services, every_s: float = 1.0) -> None:
    """Gauges that are states, not events: refreshed once a second."""
    while True:
        serving = services.holder.current
        services.metrics.observe_model(
            serving.model if serving else None, serving.source if serving else "none"
        )
        services.metrics.observe_publisher(services.publisher.stats)
        await asyncio.sleep(every_s)


def _load_champion(registry: ModelSource, holder: ModelHolder) -> None:
    try:
        model = registry.load("champion")
    except Exception as exc:
        log.error("no champion could be loaded (%s): /predict answers 503 until one is", exc)
        return
    model.analyse("warm-up: builds the tokenizer and caches before the first request")
    holder.swap(model, "cache" if getattr(model, "degraded", False) else "registry")


async def open_services(settings: Settings, bus: RedisBus, registry: ModelSource) -> Services:
    publisher = bus.buffered()
    await publisher.start()
    holder = ModelHolder()
    follower = ModelFollower(bus, holder, registry, backoff_s=settings.api.model_reload_backoff_s)
    await follower.pin()  # before loading, so a promotion during start-up is not missed
    await asyncio.to_thread(_load_champion, registry, holder)
    router = AbTestRouter()
    metrics = ApiMetrics()
    ab_follower = AbTestFollower(
        bus, router, registry, backoff_s=settings.api.model_reload_backoff_s
    )
    try:
        await ab_follower.restore()
    except Exception as exc:  # Redis or the registry unavailable: no test routing until back
        log.warning("cannot restore a running A/B test yet (%s)", exc)
    services = Services(
        settings=settings,
        bus=bus,
        publisher=publisher,
        holder=holder,
        registry=registry,
        predictor=Predictor(settings, holder, publisher, router, metrics),
        follower=follower,
        abtests=router,
        auth=None,  # type: ignore[arg-type]  # set below: it needs the store opener
        metrics=metrics,
    )
    services.auth = Authenticator(settings, bus.redis, services.store)
    services.tasks.append(asyncio.create_task(follower.run(), name="model-follower"))
    services.tasks.append(asyncio.create_task(follower.confirm_loop(), name="model-confirm"))
    services.tasks.append(asyncio.create_task(ab_follower.run(), name="abtest-follower"))
    services.tasks.append(asyncio.create_task(_observe(services), name="metrics"))
    return services
