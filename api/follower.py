"""Hot reload: follow the `models` stream and serve whatever `champion` now points to.

Every replica runs one follower. It pins its position in the stream *before* the first
load, so a promotion that lands during start-up is still seen. Loading happens in a
thread; the swap is one reference assignment (see `ModelHolder`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from api.holder import ModelHolder
from bus.bus import RedisBus
from bus.replies import entries
from ml.protocols import ModelSource, ServingModel
from schemas.catalogue import StreamName
from schemas.events import Event, ModelPromoted, ModelRolledBack

__all__ = ["ModelFollower", "champion_version_after"]

log = logging.getLogger(__name__)

_TYPES = ("model.promoted", "model.rolled_back")


def champion_version_after(event: Event) -> int | None:
    """The version `champion` points to after this event, or None if it did not move."""
    if isinstance(event, ModelPromoted) and event.payload.alias == "champion":
        return event.payload.version
    if isinstance(event, ModelRolledBack):
        return event.payload.to_version
    return None


class ModelFollower:
    def __init__(
        self,
        bus: RedisBus,
        holder: ModelHolder,
        source: ModelSource,
        backoff_s: float = 2.0,
        on_swap: Callable[[ServingModel], None] | None = None,
    ) -> None:
        self.bus = bus
        self.holder = holder
        self.source = source
        self.backoff_s = backoff_s
        self.on_swap = on_swap
        self.position: str | None = None
        self.reloads = 0

    async def pin(self) -> bool:
        """Remember the newest entry of `models` now; following starts after it."""
        try:
            async with asyncio.timeout(self.bus.settings.bus.socket_timeout_s):
                newest = entries(
                    await self.bus.redis.xrevrange(self.bus.keys.stream(StreamName.MODELS), count=1)
                )
        except Exception as exc:
            log.warning("cannot read the models stream yet (%s)", exc)
            return False
        self.position = newest[0][0] if newest else "0-0"
        return True

    async def run(self) -> None:
        """Follow until cancelled; Redis outages are retried with a fixed backoff."""
        while True:
            try:
                if self.position is None:
                    # Pinned late (Redis was down at start): a promotion may have happened
                    # meanwhile, so ask the registry once what `champion` is now.
                    if not await self.pin():
                        await asyncio.sleep(self.backoff_s)
                        continue
                    await self.catch_up()
                assert self.position is not None
                async for item in self.bus.tail(
                    StreamName.MODELS, from_id=self.position, types=_TYPES
                ):
                    self.position = item.entry_id
                    version = champion_version_after(item.event)
                    if version is not None and version != self.holder.version:
                        await self.reload(version)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("model follower: %s; retrying in %.1fs", exc, self.backoff_s)
                await asyncio.sleep(self.backoff_s)

    async def catch_up(self) -> None:
        version = await asyncio.to_thread(self.source.champion_version)
        if version is not None and not self.holder.confirm(version):
            await self.reload(version)

    async def confirm_loop(self) -> None:
        """Ask the registry which version is champion until it answers (a model served from
        the cache at start is `degraded` until then), and switch to it if it moved."""
        while True:
            try:
                await self.catch_up()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("registry not reachable (%s); serving the cached model", exc)
                await asyncio.sleep(self.backoff_s * 5)

    async def reload(self, version: int) -> None:
        model = await asyncio.to_thread(self.source.load_version, version)
        await asyncio.to_thread(model.analyse, "warm-up before the swap")
        self.holder.swap(model)
        self.reloads += 1
        if self.on_swap is not None:
            self.on_swap(model)
