"""A/B routing in the API: deterministic arms, the challenger answering its share, shadow."""

from __future__ import annotations

import time
import uuid

from fakeredis import FakeServer
from fastapi.testclient import TestClient

from api.abtests import arm
from schemas.events import PredictionMade
from spamops.settings import Settings
from tests.api.test_predict import _wait_events


def test_split_is_within_one_percent_over_100k_keys_and_sticky() -> None:
    test_id = str(uuid.uuid4())
    arms = [arm(test_id, f"client-{i}", 0.2) for i in range(100_000)]
    share = arms.count("challenger") / len(arms)
    assert abs(share - 0.2) < 0.01
    # Sticky: the same key gets the same arm in another process/replica (pure function),
    # and different tests shuffle clients independently.
    assert [arm(test_id, f"client-{i}", 0.2) for i in range(1000)] == arms[:1000]
    other = [arm(str(uuid.uuid4()), f"client-{i}", 0.2) for i in range(1000)]
    assert other != arms[:1000]


def _wait(condition: object, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_split_routes_the_challenger_its_share(
    client: TestClient, fake_server: FakeServer, settings: Settings
) -> None:
    r = client.post("/abtests", json={"challenger_version": 2, "split": 0.5})
    assert r.status_code == 202, r.text
    abtest_id = r.json()["abtest_id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    _wait(lambda: services.abtests.current is not None)
    assert client.post("/abtests", json={"challenger_version": 2}).status_code == 409
    versions = {}
    for i in range(200):
        body = client.post("/predict", json={"message": "hi", "client_id": f"c{i}"}).json()
        versions[f"c{i}"] = (body["model"]["version"], body["variant"])
        assert body["variant"] == arm(abtest_id, f"c{i}", 0.5)
    assert {v for v, _ in versions.values()} == {1, 2}
    again = client.post("/predict", json={"message": "hi", "client_id": "c7"}).json()
    assert (again["model"]["version"], again["variant"]) == versions["c7"]  # sticky
    no_key = client.post("/predict", json={"message": "hi"}).json()
    assert no_key["variant"] == "champion"
    events = _wait_events(fake_server, settings, "predictions", 202)
    tagged = [e for e in events if isinstance(e, PredictionMade) and e.payload.abtest_id]
    assert len(tagged) >= 201 and str(tagged[0].payload.abtest_id) == abtest_id

    assert client.post(f"/abtests/{abtest_id}/stop").status_code == 202
    _wait(lambda: services.abtests.current is None)
    assert (
        client.post("/predict", json={"message": "hi", "client_id": "c1"}).json()["variant"]
        == "champion"
    )


def test_shadow_mode_answers_with_the_champion_and_records_the_challenger(
    client: TestClient, fake_server: FakeServer, settings: Settings
) -> None:
    r = client.post("/abtests", json={"challenger_version": 2, "mode": "shadow"})
    assert r.status_code == 202
    services = client.app.state.services  # type: ignore[attr-defined]
    _wait(lambda: services.abtests.current is not None)
    for i in range(20):
        body = client.post("/predict", json={"message": "win a prize", "client_id": f"c{i}"})
        assert body.json()["model"]["version"] == 1 and body.json()["variant"] == "champion"
    batch = client.post("/predict/batch", json={"messages": [{"message": "free prize"}] * 3})
    assert {p["model"]["version"] for p in batch.json()["predictions"]} == {1}
    events = [
        e
        for e in _wait_events(fake_server, settings, "predictions", 23)
        if isinstance(e, PredictionMade)
    ]
    assert len(events) == 23
    assert all(e.payload.shadow is not None and e.payload.shadow.model.version == 2 for e in events)


def test_starting_a_test_validates(client: TestClient) -> None:
    r = client.post("/abtests", json={"challenger_version": 1})
    assert r.status_code == 409 and "champion" in r.json()["error"]
    r = client.post("/abtests", json={"challenger_version": 9})
    assert r.status_code == 404
    assert client.post("/abtests", json={"challenger_version": 2, "split": 1.5}).status_code == 422
    assert client.post(f"/abtests/{uuid.uuid4()}/stop").status_code == 404
