"""Is a process able to do its job? The checks the launcher waits on, and the container probe.

A process that runs is not yet a process that serves: the API must answer `/health`, a
consumer process must beat its heartbeat in Redis (which it does only once its groups read),
Redis must answer PING. The same checks back the image's HEALTHCHECK:

    python -m spamops.launcher.health api|consumer|scheduler|dashboard|auto
    python -m spamops.launcher.health url http://127.0.0.1:5000/health

exits 0 when healthy, 1 otherwise. `auto` picks the check from the container's main command.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path

import httpx

from bus.keys import Keys
from spamops.launcher.specs import ReadyCheck

__all__ = ["heartbeat_check", "http_check", "http_ok", "main", "redis_check", "role_of"]


async def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """True when `url` answers 2xx."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.is_success


async def redis_ping(url: str, timeout_s: float = 2.0) -> bool:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def heartbeats(url: str, prefix: str, member: str, timeout_s: float = 2.0) -> int:
    """How many consumer groups beat for `member` (a glob: `host-*` matches every pid)."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return len([key async for key in client.scan_iter(Keys(prefix).heartbeat("*", member))])
    except (RedisError, OSError):
        return 0
    finally:
        await client.aclose()


def http_check(url: str) -> ReadyCheck:
    return lambda: http_ok(url)


def redis_check(url: str) -> ReadyCheck:
    return lambda: redis_ping(url)


def heartbeat_check(url: str, prefix: str, member: str, groups: int) -> ReadyCheck:
    """Ready once every one of the process's `groups` consumer groups beats."""

    async def check() -> bool:
        return await heartbeats(url, prefix, member) >= groups

    return check


def role_of(argv: list[str]) -> str:
    """The role a container's main command plays: `spamops consume ...` is a consumer."""
    words = [Path(word).name for word in argv]
    for word, role in (
        ("consume", "consumer"),
        ("scheduler", "scheduler"),
        ("dashboard", "dashboard"),
        ("dashboard.server", "dashboard"),  # `spamops dashboard` execs into this
        ("serve", "api"),
        ("spamops.asgi", "api"),
        ("mlflow", "mlflow"),
    ):
        if word in words:
            return role
    return "none"


def _main_command() -> list[str]:
    raw = Path("/proc/1/cmdline").read_bytes()
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


async def _probe(role: str, url: str | None) -> bool:
    if role == "url":
        return url is not None and await http_ok(url)
    if role == "auto":
        role = role_of(_main_command())
    if role == "none":  # a one-shot command (init): nothing to serve
        return True
    if role == "mlflow":
        return await http_ok("http://127.0.0.1:5000/health")
    from spamops.runtime import redis_url
    from spamops.settings import load_settings

    settings = load_settings()
    if role == "api":
        return await http_ok(f"http://127.0.0.1:{settings.api.port}/health")
    if role == "dashboard":
        return await http_ok(f"http://127.0.0.1:{settings.dashboard.port}/_stcore/health")
    if role == "consumer":
        member = f"{socket.gethostname()}-*"
        return await heartbeats(redis_url(settings), settings.stream_prefix, member) > 0
    if role == "scheduler":  # it beats nowhere; without Redis it cannot publish
        return await redis_ping(redis_url(settings))
    raise ValueError(f"unknown role {role!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 if this container's process is healthy.")
    parser.add_argument(
        "role", choices=["api", "consumer", "scheduler", "dashboard", "mlflow", "url", "auto"]
    )
    parser.add_argument("url", nargs="?", help="for `url`: the address to GET")
    args = parser.parse_args(argv)
    try:
        healthy = asyncio.run(_probe(args.role, args.url))
    except Exception as exc:  # an unreadable setting or no Redis is "unhealthy", with a reason
        print(f"unhealthy: {type(exc).__name__}: {exc}")
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
