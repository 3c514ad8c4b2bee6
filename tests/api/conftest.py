from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from fastapi.testclient import TestClient

from api.app import create_app
from spamops.settings import Settings
from tests.api.doubles import MemoryRegistry


@pytest.fixture
def fake_server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def registry() -> MemoryRegistry:
    return MemoryRegistry()


@pytest.fixture
def make_client(
    settings: Settings, fake_server: FakeServer, registry: MemoryRegistry
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(app_settings: Settings | None = None) -> TestClient:
        app = create_app(
            app_settings or settings,
            redis=lambda: FakeAsyncRedis(server=fake_server),
            registry=lambda: registry,
        )
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
