"""The history routes read the SQL store that the projector writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consumers.projector import Projector
from schemas.events import Event
from spamops.settings import Settings
from tests import factories
from tests.consumers.agent import builders as b


@pytest.fixture
def store_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    return make_settings(database_url=f"sqlite:///{tmp_path / 'store.db'}")


def _project(settings: Settings, events: list[Event]) -> None:
    async def run() -> None:
        projector = Projector(settings)
        await projector.start()
        try:
            await projector.handle_batch(events)
        finally:
            await projector.close()

    asyncio.run(run())


def test_an_uninitialised_store_is_a_503_with_the_fix(
    make_client: Callable[..., TestClient], store_settings: Settings
) -> None:
    client = make_client(store_settings)
    r = client.get("/drift/latest")
    assert r.status_code == 503 and "history store" in r.json()["error"]


def test_history_routes(make_client: Callable[..., TestClient], store_settings: Settings) -> None:
    _project(store_settings, [])  # migrations only
    client = make_client(store_settings)
    r = client.get("/drift/latest")
    assert r.status_code == 404 and "send traffic" in r.json()["error"]
    assert client.get("/models/comparison").status_code == 404

    request = factories.retrain("drift")
    compared = b.compared(1, 2, "promote").model_copy(
        update={
            "payload": b.compared(1, 2, "promote").payload.model_copy(
                update={"retrain_request_id": request.id}
            )
        }
    )
    events: list[Event] = [
        b.drift(0.05),
        b.drift(0.4),
        b.performance(0.97),
        request,
        compared,
        b.promoted(2, 1),
        factories.alert("drift:1"),
    ]
    _project(store_settings, events)

    latest = client.get("/drift/latest").json()
    assert latest["score"] == 0.4 and latest["drifted"] is True
    assert latest["top_tokens"][0]["token"] == "bitcoin"
    assert len(client.get("/drift").json()) == 2
    assert len(client.get("/drift", params={"model_version": 9}).json()) == 0
    assert client.get("/performance").json()[0]["metrics"]["accuracy"] == 0.97
    (run,) = client.get("/retraining/history").json()
    assert run["reason"] == "drift" and run["status"] in ("compared", "promoted")
    comparison = client.get("/models/comparison").json()
    assert comparison["decision"] == "promote" and comparison["challenger"]["version"] == 2
    assert client.get("/models/history").json()[0]["to_version"] == 2
    assert client.get("/alerts").json()[0]["dedupe_key"] == "drift:1"
    assert client.get("/decisions").json() == []
    assert client.get("/drift", params={"since": "2026-01-01T00:00:00"}).status_code == 422
