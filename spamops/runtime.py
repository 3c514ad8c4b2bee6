"""Opening shared resources from settings, for every composition root (CLI, launcher, app).

An unset `SPAMOPS_REDIS_URL` means "the embedded Redis": `spamops up` starts one under the
data directory and records its URL in `<data_dir>/redis/server.json`; one-shot commands find
it there.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from bus.bus import RedisBus
from bus.errors import BusError
from spamops.launcher.proctree import alive
from spamops.settings import Settings

__all__ = ["NoRedisError", "embedded_state_file", "open_bus", "redis_url"]


class NoRedisError(BusError):
    """No Redis to talk to.

    Cause: `SPAMOPS_REDIS_URL` is unset and no embedded Redis is running for this data
    directory. Fix: run `spamops up` (starts one), or set `SPAMOPS_REDIS_URL`.
    """


def embedded_state_file(settings: Settings) -> Path:
    return settings.data_dir / "redis" / "server.json"


def redis_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    state = embedded_state_file(settings)
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        data = json.loads(state.read_text())
        if alive(int(data["pid"])):
            return str(data["url"])
    raise NoRedisError(
        f"SPAMOPS_REDIS_URL is unset and no embedded Redis runs for {settings.data_dir} "
        "(start one with `spamops up`, or set SPAMOPS_REDIS_URL)"
    )


@contextlib.asynccontextmanager
async def open_bus(settings: Settings, component: str) -> AsyncIterator[RedisBus]:
    bus = RedisBus.from_url(redis_url(settings), settings, component=component)
    try:
        yield bus
    finally:
        await bus.close()
