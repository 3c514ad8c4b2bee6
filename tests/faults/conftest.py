"""Fixtures of the fault suite: a small trained model, a Redis per test, a stack of processes.

The model is trained once per session on the first 2,000 messages of the corpus with two
CV folds (about a second after the first), so that drift detection, the API and the
retrainer have a real registered champion with a real reference profile, and a retraining
in a test costs a second rather than ten.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bus.embedded import EmbeddedRedis
from spamops.settings import ModelSettings, Settings
from tests.faults.stack import FAST_BUS_ENV, Stack

SMALL_CORPUS_LINES = 2000


@dataclass(frozen=True)
class Models:
    """An MLflow store holding v1 (champion) of the small model, and how to reach it."""

    root: Path
    env: dict[str, str]

    @property
    def tracking_db(self) -> Path:
        return self.root / "mlflow.db"


@pytest.fixture(scope="session")
def fault_models(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Models:
    from ml.training import train_and_register

    root = tmp_path_factory.mktemp("fault-models")
    corpus = root / "SMSSpamCollection"
    lines = dataset_path.read_text(encoding="utf-8").splitlines(keepends=True)
    corpus.write_text("".join(lines[:SMALL_CORPUS_LINES]), encoding="utf-8")
    env = {
        "SPAMOPS_MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "SPAMOPS_MODEL__DATASET_PATH": str(corpus),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": (root / "artifacts").as_uri(),
        "SPAMOPS_MODEL__CACHE_DIR": str(root / "cache"),
        "SPAMOPS_MODEL__CV_FOLDS": "2",
        "SPAMOPS_MODEL__PLOTS": "false",
    }
    settings = Settings(
        _env_file=None,
        env="test",
        data_dir=root / "data",
        mlflow_tracking_uri=env["SPAMOPS_MLFLOW_TRACKING_URI"],
        model=ModelSettings(
            dataset_path=corpus,
            artifact_root=env["SPAMOPS_MODEL__ARTIFACT_ROOT"],
            cache_dir=root / "cache",
            cv_folds=2,
            plots=False,
        ),
    )
    train_and_register(settings)
    return Models(root, env)


@pytest.fixture
def own_models(fault_models: Models, tmp_path: Path) -> Models:
    """A copy of the session's MLflow registry, for a test that registers or promotes:
    the copy's new versions and alias moves stay out of the other tests' way (artifacts of
    the existing versions are read from where they are)."""
    root = tmp_path / "models"
    root.mkdir()
    shutil.copy2(fault_models.tracking_db, root / "mlflow.db")
    if (fault_models.root / "cache").exists():
        shutil.copytree(fault_models.root / "cache", root / "cache")
    env = fault_models.env | {
        "SPAMOPS_MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "SPAMOPS_MODEL__CACHE_DIR": str(root / "cache"),
    }
    return Models(root, env)


@pytest.fixture
def redis_aof(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, with AOF (appendfsync everysec), as in production."""
    server = EmbeddedRedis(tmp_path / "redis", persistence="aof").start()
    yield server
    server.stop()


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[StackFactory]:
    """Build stacks on a Redis URL; every process they started is stopped afterwards."""
    stacks: list[Stack] = []

    def build(redis_url: str, models: Models | None = None, **env: str) -> Stack:
        root = tmp_path / f"stack-{len(stacks)}"
        root.mkdir()
        full = (
            dict(os.environ)
            | {
                "SPAMOPS_ENV": "test",
                "SPAMOPS_DATA_DIR": str(root / "data"),
                "SPAMOPS_DATABASE_URL": f"sqlite:///{root / 'store.db'}",
                "SPAMOPS_REDIS_URL": redis_url,
                "SPAMOPS_STREAM_PREFIX": f"faults-{uuid.uuid4().hex[:8]}:",
                "SPAMOPS_AUTH__RATE_LIMIT_PER_S": "1000000",
                "SPAMOPS_AUTH__RATE_LIMIT_BURST": "1000000",
            }
            | FAST_BUS_ENV
            | (models.env if models is not None else {})
            | env
        )
        stack = Stack(root, full)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.close()
