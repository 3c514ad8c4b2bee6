"""Real processes against real services: an MLflow store (SQLite) with trained models, a
Redis the tests start and stop, the API run as `python -m spamops.asgi`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bus.embedded import EmbeddedRedis, free_port
from spamops.settings import ModelSettings, Settings


@dataclass
class ModelStore:
    root: Path
    settings: Settings


@pytest.fixture(scope="session")
def model_store(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """An MLflow store with v1 (champion) and v2 (challenger, trained on extra data)."""
    from ml.training import train_and_register
    from producers.scenarios import campaign_messages

    root = tmp_path_factory.mktemp("models")
    settings = Settings(
        _env_file=None,
        env="test",
        data_dir=root / "data",
        mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        model=ModelSettings(
            dataset_path=dataset_path,
            cache_dir=root / "cache",
            artifact_root=(root / "artifacts").as_uri(),
            plots=False,
        ),
    )
    train_and_register(settings)
    extra = [(m.text, m.label) for m in campaign_messages(200, seed=5)]
    train_and_register(settings, extra=extra)
    return ModelStore(root, settings)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis", persistence="aof").start()
    yield server
    server.stop()


def admin_headers() -> dict[str, str]:
    """A token the API processes accept: they share this session's JWT secret (env)."""
    from api.security.tokens import issue_token

    token = issue_token(Settings(_env_file=None).auth, "integration-tests", "admin")
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ApiProcess:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    started_s: float

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, headers=admin_headers())

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout, headers=admin_headers())


@pytest.fixture
def start_api(model_store: ModelStore, tmp_path: Path) -> Iterator[Callable[..., ApiProcess]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(redis_url: str, workers: int = 1, **env: str) -> ApiProcess:
        port = free_port()
        full = (
            os.environ
            | {
                "SPAMOPS_ENV": "test",
                "SPAMOPS_DATA_DIR": str(tmp_path / "api-data"),
                "SPAMOPS_REDIS_URL": redis_url,
                "SPAMOPS_STREAM_PREFIX": f"it-{uuid.uuid4().hex[:8]}:",
                "SPAMOPS_MLFLOW_TRACKING_URI": model_store.settings.resolved_mlflow_uri,
                "SPAMOPS_MODEL__CACHE_DIR": str(model_store.settings.model_cache_dir),
                "SPAMOPS_MODEL__ARTIFACT_ROOT": str(model_store.settings.model.artifact_root),
                "SPAMOPS_MODEL__DATASET_PATH": str(model_store.settings.dataset_path),
                "SPAMOPS_BUS__RECONNECT_BACKOFF_MS": "50",
                "SPAMOPS_BUS__RECONNECT_BACKOFF_MAX_MS": "500",
                "SPAMOPS_API__MODEL_RELOAD_BACKOFF_S": "0.2",
                "SPAMOPS_AUTH__RATE_LIMIT_PER_S": "1000000",  # these tests are not about limits
                "SPAMOPS_AUTH__RATE_LIMIT_BURST": "1000000",
            }
            | env
        )
        started = time.perf_counter()
        with (tmp_path / f"api-{port}.log").open("wb") as log:  # the child keeps its copy
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "spamops.asgi",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
                env=full,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # two workers on a busy 2-core machine
        while True:
            assert proc.poll() is None, (tmp_path / f"api-{port}.log").read_text()[-3000:]
            try:
                if httpx.get(url + "/ready", timeout=1, headers=admin_headers()).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not become ready"
            time.sleep(0.05)
        return ApiProcess(url, full, proc, time.perf_counter() - started)

    yield start
    for proc in processes:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
