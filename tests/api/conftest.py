from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.principal import Role
from api.security.tokens import issue_token
from spamops.settings import Settings
from tests.api.doubles import MemoryRegistry


def bearer(settings: Settings, role: Role, subject: str = "test") -> str:
    return f"Bearer {issue_token(settings.auth, f'{subject}-{role}', role)}"


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
        client.headers["Authorization"] = bearer(app_settings or settings, "admin")
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
