"""MLflow unreachable when the API process starts.

With the champion in the local model cache, the API must start, serve that model, say so
on `/ready` (`degraded`, model source `cache`), and publish every prediction as usual.
With an empty cache there is nothing to serve: `/ready` and `/predict` answer 503 — never
a 500 — and `/health` (liveness) still answers 200, so an orchestrator keeps the process
and routes no traffic to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.embedded import EmbeddedRedis, free_port
from ml.registry import ModelRegistry
from schemas.catalogue import StreamName
from schemas.events import PredictionMade
from spamops.settings import ModelSettings, Settings
from tests.faults.conftest import Models, StackFactory
from tests.faults.stack import wait_until
from tests.faults.traffic import corpus_sample, predict_all

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.mlflow]


def _mlflow_down() -> dict[str, str]:
    return {
        "SPAMOPS_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}/",  # nobody listens
        "SPAMOPS_MODEL__REGISTRY_TIMEOUT_S": "2",
    }


def test_mlflow_down_at_start_serves_the_cached_champion_degraded(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, own_models: Models, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        mlflow_tracking_uri=own_models.env["SPAMOPS_MLFLOW_TRACKING_URI"],
        model=ModelSettings(
            cache_dir=Path(own_models.env["SPAMOPS_MODEL__CACHE_DIR"]),
            artifact_root=own_models.env["SPAMOPS_MODEL__ARTIFACT_ROOT"],
        ),
    )
    ModelRegistry(settings).load("champion")  # a previous start left the champion cached
    stack = make_stack(redis_aof.url, own_models, **_mlflow_down())
    api = stack.api()
    ready = api.get("/ready").json()
    assert ready["status"] == "degraded" and ready["model_source"] == "cache", ready
    assert ready["model"]["version"] == 1 and ready["bus"] == "connected"
    texts = [t for t, _ in corpus_sample(Path(own_models.env["SPAMOPS_MODEL__DATASET_PATH"]), 50)]
    ids, statuses = predict_all(api, texts)
    assert statuses == {200: 50}

    def on_stream_now() -> list[PredictionMade]:
        events = stack.events(StreamName.PREDICTIONS)
        return [e for e in events if isinstance(e, PredictionMade)]

    # The API publishes in the background (it never waits for Redis): poll, don't peek.
    wait_until(lambda: len(on_stream_now()) >= len(ids), 10, "every prediction on the stream")
    on_stream = on_stream_now()
    assert sorted(str(e.payload.prediction_id) for e in on_stream) == sorted(ids)
    assert {e.payload.model.version for e in on_stream} == {1}
    assert api.get("/ready").json()["status"] == "degraded"  # still: MLflow is still down

    # The same, with nothing in the cache: alive, not ready, no 500.
    empty = make_stack(
        redis_aof.url,
        own_models,
        **_mlflow_down(),
        SPAMOPS_MODEL__CACHE_DIR=str(tmp_path / "empty-cache"),
    )
    cold = empty.api(ready=False)
    assert cold.get("/health").status_code == 200
    r = cold.get("/ready")
    assert r.status_code == 503 and r.json()["status"] == "unavailable", r.text
    with cold.client() as client:
        answer = client.post("/predict", json={"message": "hello"})
    assert answer.status_code == 503, answer.text
