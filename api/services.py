"""What a running API holds, opened in the lifespan and closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from api.follower import ModelFollower
from api.holder import ModelHolder
from api.predictor import Predictor
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


def _load_champion(registry: ModelSource, holder: ModelHolder) -> None:
    try:
        model = registry.load("champion")
    except Exception as exc:
        log.error("no champion could be loaded (%s): /predict answers 503 until one is", exc)
        return
    holder.swap(model, "cache" if getattr(model, "degraded", False) else "registry")


async def open_services(settings: Settings, bus: RedisBus, registry: ModelSource) -> Services:
    publisher = bus.buffered()
    await publisher.start()
    holder = ModelHolder()
    follower = ModelFollower(bus, holder, registry, backoff_s=settings.api.model_reload_backoff_s)
    await follower.pin()  # before loading, so a promotion during start-up is not missed
    await asyncio.to_thread(_load_champion, registry, holder)
    services = Services(
        settings=settings,
        bus=bus,
        publisher=publisher,
        holder=holder,
        registry=registry,
        predictor=Predictor(settings, holder, publisher),
        follower=follower,
    )
    services.tasks.append(asyncio.create_task(follower.run(), name="model-follower"))
    services.tasks.append(asyncio.create_task(follower.confirm_loop(), name="model-confirm"))
    return services
