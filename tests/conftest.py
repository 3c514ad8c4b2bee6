"""Fixtures shared by every test package.

Real services: Redis comes from SPAMOPS_TEST_REDIS_URL, else 127.0.0.1:6379 when it answers,
else an embedded redis-server started for the session. Every test gets its own key prefix
(so its own streams) and its keys are deleted afterwards; nothing is ever flushed.
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from bus.bus import RedisBus
from bus.connection import connect
from bus.embedded import EmbeddedRedis
from spamops.settings import BusSettings, Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASET = REPO.parent / "shared" / "data" / "sms_spam_collection" / "SMSSpamCollection"
LOCAL_DATASET = REPO / "data" / "sms_spam_collection" / "SMSSpamCollection"

# Fast delivery settings for tests: redeliver after 200 ms instead of a minute.
FAST_BUS = BusSettings(
    block_ms=50,
    reclaim_idle_ms=200,
    reclaim_interval_ms=50,
    max_deliveries=3,
    heartbeat_interval_s=0.5,
    flush_interval_ms=1,
    reconnect_backoff_ms=50,
    reconnect_backoff_max_ms=400,
    socket_timeout_s=2.0,
)


def pytest_configure(config: pytest.Config) -> None:
    # Outside development the service refuses the default JWT secret: give the test session
    # (and every process it starts) a random one. Tests that need a known one set their own.
    os.environ.setdefault("SPAMOPS_AUTH__JWT_SECRET", secrets.token_urlsafe(48))


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("SPAMOPS_TEST_REDIS_URL")
    if url:
        yield url
        return
    if _answers("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/0"
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistence="none") as server:
        yield server.url


@pytest.fixture
def prefix() -> str:
    return f"spamops-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def make_settings(tmp_path: Path, prefix: str) -> Callable[..., Settings]:
    """Settings isolated to this test: own data dir, own stream prefix, no .env."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "data",
            "stream_prefix": prefix,
            "instance": "test",
            "bus": FAST_BUS,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def fake_bus(settings: Settings) -> AsyncIterator[RedisBus]:
    """The bus on fakeredis, for fast unit tests."""
    bus = RedisBus(FakeAsyncRedis(), settings, component="test")
    yield bus
    await bus.close()


async def _delete_prefix(redis: Redis, prefix: str) -> None:
    async for key in redis.scan_iter(match=f"{prefix}*", count=500):
        await redis.delete(key)


@pytest.fixture
async def redis_bus(redis_url: str, settings: Settings) -> AsyncIterator[RedisBus]:
    """The bus on a real Redis; this test's keys are deleted afterwards."""
    bus = RedisBus(connect(redis_url, settings.bus), settings, component="test")
    yield bus
    await _delete_prefix(bus.redis, settings.stream_prefix)
    await bus.close()


@pytest.fixture(scope="session")
def dataset_path() -> Path:
    for candidate in (LOCAL_DATASET, SHARED_DATASET):
        if candidate.exists():
            return candidate
    pytest.skip("the SMS Spam Collection is not beside the checkout (../shared/data)")
