from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from tests.api.doubles import MemoryRegistry


def _wait_version(client: TestClient, version: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/ready").json()["model"]["version"] != version:
        assert time.monotonic() < deadline, "the API did not hot-reload"
        time.sleep(0.02)


def test_list_promote_rollback_and_hot_reload(client: TestClient, registry: MemoryRegistry) -> None:
    listed = client.get("/models").json()
    assert [v["version"] for v in listed] == [2, 1] and listed[1]["aliases"] == ["champion"]

    r = client.post("/models/2/promote")
    assert r.status_code == 200, r.text
    assert r.json() | {"event_id": None} == {
        "event_id": None,
        "action": "promoted",
        "version": 2,
        "previous_version": 1,
    }
    _wait_version(client, 2)
    assert client.post("/predict", json={"message": "hi"}).json()["model"]["version"] == 2

    r = client.post("/models/rollback")
    assert r.status_code == 200 and r.json()["version"] == 1
    _wait_version(client, 1)


def test_registry_errors_are_4xx(client: TestClient) -> None:
    r = client.post("/models/9/promote")
    assert r.status_code == 404 and "no version 9" in r.json()["error"]
    r = client.post("/models/rollback")
    assert r.status_code == 409 and "nothing to roll back" in r.json()["error"]
    assert client.post("/models/0/promote").status_code == 422
    assert client.post("/models/x/promote").status_code == 422


def test_retrain_request_is_an_event(client: TestClient) -> None:
    r = client.post("/retrain", json={"detail": "new campaign seen"})
    assert r.status_code == 202
    request_id = r.json()["request_id"]
    deadline = time.monotonic() + 5
    while True:
        page = client.get("/events/decisions", params={"type": "retrain.requested"}).json()
        if page["events"] or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    (item,) = page["events"]
    assert item["event"]["id"] == request_id
    assert item["event"]["payload"]["reason"] == "manual"
    assert item["event"]["payload"]["detail"] == "new campaign seen"
    assert client.post("/retrain").status_code == 202
    assert client.post("/retrain", json={"reason": "whim"}).status_code == 422


def test_replay_pages_and_filters(client: TestClient) -> None:
    ids = [
        client.post("/predict", json={"message": f"m{i}"}).json()["prediction_id"] for i in range(7)
    ]
    deadline = time.monotonic() + 5
    got: list[str] = []
    while len(got) < 7 and time.monotonic() < deadline:
        got, cursor = [], None
        while True:
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/events/predictions", params=params).json()
            got += [e["event"]["id"] for e in page["events"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert got == ids
    assert (
        client.get("/events/predictions", params={"since": "2999-01-01T00:00:00Z"}).json()["events"]
        == []
    )
    assert client.get("/events/nope").status_code == 422
    assert client.get("/events/predictions", params={"limit": 5000}).status_code == 422
    assert client.get("/events/predictions", params={"cursor": "x"}).status_code == 422
    naive = client.get("/events/predictions", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["error"]


def test_live_tail_streams_new_events(client: TestClient) -> None:
    with client.stream("GET", "/events/predictions/live") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        client.post("/predict", json={"message": "win a free prize"})
        lines = response.iter_lines()
        event_line = next(line for line in lines if line.startswith("event:"))
        data_line = next(line for line in lines if line.startswith("data:"))
    assert event_line == "event: prediction.made"
    assert json.loads(data_line.removeprefix("data: "))["payload"]["label"] == "spam"


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/predict",
        "/predict/batch",
        "/feedback",
        "/models",
        "/models/{version}/promote",
        "/models/rollback",
        "/retrain",
        "/events/{stream}",
        "/events/{stream}/live",
        "/health",
        "/ready",
    } <= paths
    schemas = spec["components"]["schemas"]
    assert schemas["PredictRequest"]["examples"] and schemas["PredictResponse"]["examples"]


def test_out_of_range_stream_ids_are_422(client: TestClient) -> None:
    huge = f"{2**64}-0"
    r = client.get("/events/predictions", params={"cursor": huge})
    assert r.status_code == 422 and "stream id" in r.json()["error"]
    r = client.get("/events/predictions/live", params={"after": huge})
    assert r.status_code == 422 and "stream id" in r.json()["error"]
    early = client.get("/events/predictions", params={"since": "0001-01-01T00:00:00Z"})
    assert early.status_code == 200
