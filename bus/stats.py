"""Health figures of streams and consumer groups: length, lag, pending, dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bus.keys import Keys
from schemas.catalogue import StreamName

__all__ = ["GroupStats", "StreamStats", "stream_stats"]


@dataclass(frozen=True, slots=True)
class GroupStats:
    name: str
    consumers: int
    pending: int
    lag: int
    """Entries not yet delivered to the group. Redis < 7 reports no lag: XLEN stands in."""
    lag_exact: bool


@dataclass(frozen=True, slots=True)
class StreamStats:
    stream: StreamName
    length: int
    groups: tuple[GroupStats, ...]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def stream_stats(redis: Redis, keys: Keys) -> list[StreamStats]:
    out: list[StreamStats] = []
    for name in StreamName:
        key = keys.stream(name)
        length = int(await redis.xlen(key))
        try:
            infos = await redis.xinfo_groups(key)
        except ResponseError:  # the stream does not exist yet
            infos = []
        groups = []
        for info in infos:
            lag = info.get("lag")
            groups.append(
                GroupStats(
                    name=_text(info["name"]),
                    consumers=int(info["consumers"]),
                    pending=int(info["pending"]),
                    lag=int(lag) if lag is not None else length,
                    lag_exact=lag is not None,
                )
            )
        out.append(StreamStats(name, length, tuple(groups)))
    return out
