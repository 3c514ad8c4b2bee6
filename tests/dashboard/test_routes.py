"""The API routes added for the dashboard (`api/routes/dashboard.py`), over HTTP."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from pathlib import Path

from fakeredis import FakeAsyncRedis, FakeServer
from fastapi.testclient import TestClient

from api.app import create_app
from tests.dashboard import seed
from tests.dashboard.system import HAM, Seeded, System, registry, settings_for


def test_traffic_is_counted_per_minute_with_empty_minutes_filled(seeded: Seeded) -> None:
    with seeded.system.http("operator") as client:
        body = client.get("/dashboard/traffic", params={"minutes": 60}).json()
        assert (body["predictions"], body["spam"], body["spam_rate"]) == (340, 102, 0.3)
        assert body["challenger"] == seed.BACKGROUND_CHALLENGER and body["mean_latency_ms"] > 0
        minutes = [datetime.fromisoformat(m["minute"]) for m in body["minutes"]]
        assert len(minutes) == 60 and all(m.second == 0 and m.tzinfo for m in minutes)
        assert [(b - a).total_seconds() for a, b in itertools.pairwise(minutes)] == [60] * 59
        busy = [m for m in body["minutes"] if m["predictions"]]
        assert len(busy) >= seed.BACKGROUND_MINUTES + 1
        assert [m["predictions"] for m in busy[:5]] == [10] * 5  # the oldest background minutes
        assert [m["spam_rate"] for m in busy[:7]] == [0.1] * 6 + [0.2]
        assert all(m["spam_rate"] is None for m in body["minutes"] if not m["predictions"])
        for bad in (0, 1441, "x"):
            assert client.get("/dashboard/traffic", params={"minutes": bad}).status_code == 422


def test_latest_predictions_come_newest_first_and_after_a_cursor(seeded: Seeded) -> None:
    with seeded.system.http("operator") as client:
        page = client.get("/dashboard/predictions/latest", params={"limit": 3}).json()
        texts = [p["text"] for p in page["predictions"]]
        assert texts == [HAM[-1], HAM[-2], HAM[-3]]
        assert page["newest_entry_id"] == page["predictions"][0]["entry_id"]
        assert page["predictions"][0]["model"] == {
            "name": "spam-classifier",
            "version": 2,
            "alias": "champion",
        }
        after = client.get(
            "/dashboard/predictions/latest", params={"after": page["newest_entry_id"]}
        ).json()
        assert after == {"predictions": [], "newest_entry_id": page["newest_entry_id"]}
        for bad in ("1-2-3", "99999999999999999999-0", "x"):
            response = client.get("/dashboard/predictions/latest", params={"after": bad})
            assert response.status_code == 422, bad


def test_bus_health_lists_every_stream_and_the_projector_group(seeded: Seeded) -> None:
    with seeded.system.http("operator") as client:
        body = client.get("/dashboard/bus").json()
    streams = {s["stream"]: s for s in body["streams"]}
    assert streams["predictions"]["length"] == 340
    (group,) = streams["predictions"]["groups"]
    assert (group["name"], group["pending"], group["lag"]) == ("projector", 0, 0)
    assert streams["access"]["groups"] == []  # the projector does not read `access`
    assert body["spooling"] is False and body["dropped_events"] == 0


def test_the_audit_trail_of_a_prediction(seeded: Seeded) -> None:
    target = seeded.misclassified["prediction_id"]
    with seeded.system.http("operator") as client:
        body = client.get(f"/dashboard/audit/predictions/{target}").json()
        assert body["prediction"]["prediction_id"] == target
        assert body["prediction"]["feedback_label"] == "ham"
        assert body["model_version"]["run_id"] == "run-v2"
        assert body["model_version"]["aliases"] == ["champion"]
        promotion = body["promotion"]
        assert (promotion["to_version"], promotion["from_version"]) == (2, 1)
        assert promotion["reason"] == seed.PROMOTION_REASON
        unknown = client.get(f"/dashboard/audit/predictions/{uuid.uuid4()}")
        assert unknown.status_code == 404 and "no prediction" in unknown.json()["error"]
        assert client.get("/dashboard/audit/predictions/nope").status_code == 422


def test_a_prediction_of_a_version_never_seen_trained_has_no_provenance(fresh: System) -> None:
    (answer,) = fresh.predict([HAM[0]])
    path = f"/dashboard/audit/predictions/{answer['prediction_id']}"
    fresh.wait_until("projected", lambda c: c.get(path).status_code == 200)
    with fresh.http("operator") as client:
        body = client.get(path).json()
    assert body["model_version"] is None and body["promotion"] is None


def test_an_unmigrated_store_is_a_503_that_says_so(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)  # no projector ran: the database has no tables
    server = FakeServer()
    app = create_app(settings, redis=lambda: FakeAsyncRedis(server=server), registry=registry)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {System('', settings, server).bearer()}"
        for path in ("/dashboard/traffic", f"/dashboard/audit/predictions/{uuid.uuid4()}"):
            response = client.get(path)
            assert response.status_code == 503 and "history store" in response.json()["error"]
        assert client.get("/dashboard/predictions/latest").json()["predictions"] == []
