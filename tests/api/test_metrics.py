"""Prometheus metrics: scraped and parsed, they move when traffic flows."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_api_metrics_move_with_traffic(client: TestClient) -> None:
    before = _samples(client)
    for text in ("win a free prize now", "see you later", "claim your prize"):
        assert client.post("/predict", json={"message": text}).status_code == 200
    client.post("/predict", json={"message": ""})
    after = _samples(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert (
        delta("spamops_predictions_total", label="spam", model_version="1", variant="champion") == 2
    )
    assert (
        delta("spamops_predictions_total", label="ham", model_version="1", variant="champion") == 1
    )
    assert delta("spamops_api_requests_total", method="POST", route="/predict", status="200") == 3
    assert delta("spamops_api_requests_total", method="POST", route="/predict", status="422") == 1
    assert delta("spamops_api_request_duration_seconds_count", method="POST", route="/predict") == 4
    info = [k for k, v in after.items() if k[0] == "spamops_model_info" and v == 1]
    assert info and ("version", "1") in info[0][1]
    assert ("spamops_publish_queue_events", ()) in after


def test_metrics_need_a_role(client: TestClient) -> None:
    from tests.api.conftest import bearer

    r = client.get(
        "/metrics",
        headers={
            "Authorization": bearer(
                client.app.state.services.settings,  # type: ignore[attr-defined]
                "predict",
            )
        },
    )
    assert r.status_code == 403
