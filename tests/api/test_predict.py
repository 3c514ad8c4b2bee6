from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator

from fakeredis import FakeAsyncRedis, FakeServer
from fastapi.testclient import TestClient

from bus.codec import decode_fields
from bus.keys import Keys
from bus.replies import entries
from schemas.events import PredictionMade
from spamops.settings import Settings


def _events(server: FakeServer, settings: Settings, stream: str) -> list[object]:
    async def read() -> list[object]:
        redis = FakeAsyncRedis(server=server)
        rows = entries(await redis.xrange(Keys(settings.stream_prefix).stream(stream)))
        return [decode_fields(f) for _, f in rows]

    return asyncio.run(read())


def _wait_events(server: FakeServer, settings: Settings, stream: str, n: int) -> list[object]:
    deadline = time.monotonic() + 5
    while True:
        found = _events(server, settings, stream)
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_predict_answers_and_publishes(
    client: TestClient, fake_server: FakeServer, settings: Settings
) -> None:
    r = client.post(
        "/predict", json={"message": "WIN a FREE prize", "client_id": "c1", "request_id": "r1"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["label"] == "spam" and 0.5 < body["spam_probability"] <= 1
    assert body["model"] == {"name": "spam-classifier", "version": 1, "alias": "champion"}
    assert body["variant"] == "champion" and body["latency_ms"] >= 0
    (event,) = _wait_events(fake_server, settings, "predictions", 1)
    assert isinstance(event, PredictionMade)
    p = event.payload
    assert str(p.prediction_id) == body["prediction_id"] == str(event.id)
    assert p.text == "WIN a FREE prize" and p.client_id == "c1" and p.request_id == "r1"
    assert p.token_hashes and p.shape.length == 16 and p.shape.uppercase_ratio > 0.5
    assert p.model.version == 1 and p.label == "spam"


def test_redacted_events_carry_no_text(
    make_client: Callable[..., TestClient],
    make_settings: Callable[..., Settings],
    fake_server: FakeServer,
) -> None:
    settings = make_settings(event_text="redacted")
    client = make_client(settings)
    assert client.post("/predict", json={"message": "call me at 5"}).status_code == 200
    (event,) = _wait_events(fake_server, settings, "predictions", 1)
    assert isinstance(event, PredictionMade)
    assert event.payload.text is None and len(event.payload.text_sha256) == 64
    assert "call me" not in event.to_json().decode()


def test_batch(client: TestClient, fake_server: FakeServer, settings: Settings) -> None:
    msgs = [{"message": f"hello {i}"} for i in range(5)] + [{"message": "win a prize"}]
    r = client.post("/predict/batch", json={"messages": msgs})
    assert r.status_code == 200, r.text
    labels = [p["label"] for p in r.json()["predictions"]]
    assert labels == ["ham"] * 5 + ["spam"]
    assert len(_wait_events(fake_server, settings, "predictions", 6)) == 6


def test_bad_input_is_a_readable_4xx(client: TestClient, settings: Settings) -> None:
    cases: list[tuple[object, int, str]] = [
        ({"message": ""}, 422, "empty"),
        ({"message": "   \n\t"}, 422, "whitespace"),
        ({"message": "x" * 5001}, 422, "5001 characters; the limit is 5000"),
        ({"message": 42}, 422, "message"),
        ({}, 422, "message: Field required"),
        ({"message": "hi", "surprise": 1}, 422, "surprise"),
        ([1, 2], 422, "invalid request"),
    ]
    for body, code, text in cases:
        r = client.post("/predict", json=body)
        assert r.status_code == code, (body, r.text)
        assert text in r.json()["error"], (body, r.json())
    r = client.post("/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]
    r = client.post("/predict/batch", json={"messages": [{"message": "a"}] * 1001})
    assert r.status_code == 422 and "limit is 1000" in r.json()["error"]
    r = client.post("/predict/batch", json={"messages": [{"message": "ok"}, {"message": " "}]})
    assert r.status_code == 422 and "messages.1.message" in r.json()["error"]
    r = client.post("/predict/batch", json={"messages": []})
    assert r.status_code == 422
    big = json.dumps({"message": "x" * (settings.api.max_body_bytes + 10)})
    r = client.post("/predict", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MAX_BODY_BYTES" in r.json()["error"]

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(settings.api.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "MAX_BODY_BYTES" in r.json()["error"]
    assert client.get("/predict").status_code == 405
    assert client.get("/nope").json()["error"].startswith("no route")


def test_feedback_is_accepted_and_published(
    client: TestClient, fake_server: FakeServer, settings: Settings
) -> None:
    pid = client.post("/predict", json={"message": "hello"}).json()["prediction_id"]
    r = client.post("/feedback", json={"prediction_id": pid, "label": "ham"})
    assert r.status_code == 202 and r.json()["prediction_id"] == pid
    (event,) = _wait_events(fake_server, settings, "feedback", 1)
    assert str(event.correlation) == pid  # type: ignore[attr-defined]
    bad = client.post("/feedback", json={"prediction_id": "nope", "label": "maybe"})
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["detail"]}
    assert fields == {"prediction_id", "label"}


def test_no_model_means_503_not_500(
    make_client: Callable[..., TestClient], registry: object
) -> None:
    registry.champion = None  # type: ignore[attr-defined]
    client = make_client()
    r = client.post("/predict", json={"message": "hello"})
    assert r.status_code == 503 and "spamops train" in r.json()["error"]
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_reports_model_and_bus(client: TestClient) -> None:
    r = client.get("/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["model"]["version"] == 1
    assert body["bus"] == "connected" and body["model_source"] == "registry"
