"""Registry aliases, promotion and rollback, loading by alias, and serving from the cache."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from mlflow import MlflowClient

from ml.errors import (
    ModelNotFoundError,
    NoPreviousChampionError,
    RegistryError,
    RegistryUnavailableError,
)
from ml.registry import HISTORY_TAG, ModelRegistry
from ml.tracking import LoggedRun
from ml.training import TrainingResult
from schemas.common import ClassificationMetrics
from spamops.settings import Settings

pytestmark = pytest.mark.mlflow


@pytest.fixture
def logged(trained: tuple[Settings, TrainingResult]) -> tuple[LoggedRun, ClassificationMetrics]:
    """The session's trained model, to register again under this test's model name."""
    settings, result = trained
    mv = MlflowClient(settings.resolved_mlflow_uri).get_model_version(
        settings.model.registered_name, str(result.model.version)
    )
    return LoggedRun(result.run_id, str(mv.source), mv.tags["scorer_sha256"]), result.metrics


@pytest.fixture
def settings(make_ml_settings: Callable[..., Settings]) -> Settings:
    return make_ml_settings()


@pytest.fixture
def registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings)


@pytest.fixture
def register(
    registry: ModelRegistry, logged: tuple[LoggedRun, ClassificationMetrics]
) -> Callable[[], int]:
    def add() -> int:
        version, _ = registry.register(
            logged[0], logged[1], candidate="union-logreg", threshold=0.5
        )
        return version

    return add


def test_first_is_champion_later_are_challengers(
    registry: ModelRegistry, register: Callable[[], int]
) -> None:
    assert registry.champion_version() is None
    assert register() == 1
    assert (registry.champion_version(), registry.challenger_version()) == (1, None)
    assert register() == 2
    assert register() == 3
    assert (registry.champion_version(), registry.challenger_version()) == (1, 3)
    rows = registry.versions()
    assert [(v.version, v.aliases) for v in rows] == [
        (1, ("champion",)),
        (2, ()),
        (3, ("challenger",)),
    ]
    assert rows[0].metrics["mcc"] > 0.8
    assert rows[0].candidate == "union-logreg"
    assert rows[0].created_at is not None


def test_promote_and_rollback_walk_the_champion_history(
    registry: ModelRegistry, register: Callable[[], int]
) -> None:
    v1, v2 = register(), register()
    assert registry.promote(v2) == v1
    assert registry.challenger_version() is None  # the challenger was promoted
    v3 = register()
    assert registry.challenger_version() == v3
    assert registry.promote(v3) == v2
    assert registry.champion_history() == [1, 2, 3]
    assert registry.rollback() == (3, 2)
    assert registry.rollback() == (2, 1)
    assert registry.champion_version() == 1
    with pytest.raises(NoPreviousChampionError, match="promote a specific version"):
        registry.rollback()
    tag = (
        MlflowClient(registry.settings.resolved_mlflow_uri).get_registered_model(registry.name).tags
    )
    assert tag[HISTORY_TAG] == "[1]"


def test_promote_unknown_version(registry: ModelRegistry, register: Callable[[], int]) -> None:
    register()
    with pytest.raises(ModelNotFoundError, match="has no version 9"):
        registry.promote(9)


def test_rollback_without_champion(registry: ModelRegistry) -> None:
    with pytest.raises(NoPreviousChampionError):
        registry.rollback()


def test_load_by_alias_is_fast_and_cached(
    registry: ModelRegistry, register: Callable[[], int], settings: Settings
) -> None:
    with pytest.raises(ModelNotFoundError, match="no 'champion' alias yet"):
        registry.load()
    register()
    start = time.perf_counter()
    model = ModelRegistry(settings).load("champion")
    assert time.perf_counter() - start < 2.0
    assert (model.ref.name, model.ref.version, model.ref.alias) == (registry.name, 1, "champion")
    assert not model.degraded
    assert (settings.model_cache_dir / registry.name / "v1" / "scorer.json").is_file()
    assert model.label(model.score("WINNER!! claim your £900 prize, call 09061701461")) == "spam"
    assert model.label(model.score("ok, see you at 6 then")) == "ham"
    assert model.profile.messages > 1000
    assert model.metrics is not None and model.metrics.mcc > 0.8
    assert registry.load_version(1).ref.version == 1
    with pytest.raises(RegistryError, match="unknown alias"):
        registry.load("production")


def test_serves_from_cache_when_mlflow_is_unreachable(
    registry: ModelRegistry,
    register: Callable[[], int],
    make_ml_settings: Callable[..., Settings],
    settings: Settings,
) -> None:
    register()
    online = registry.load()
    offline_settings = settings.model_copy(
        update={
            "mlflow_tracking_uri": "http://127.0.0.1:9",
            "model": settings.model.model_copy(update={"registry_timeout_s": 0.5}),
        }
    )
    offline = ModelRegistry(offline_settings)
    start = time.perf_counter()
    model = offline.load()
    assert time.perf_counter() - start < 2.0
    assert model.degraded
    assert model.ref == online.ref
    assert model.score("free entry") == online.score("free entry")
    with pytest.raises(RegistryUnavailableError, match="no cached 'challenger' model"):
        offline.load("challenger")
    with pytest.raises(RegistryUnavailableError, match="does not answer"):
        offline.versions()


def test_tampered_cache_is_refused(registry: ModelRegistry, register: Callable[[], int]) -> None:
    register()
    registry.load()
    scorer = registry.cache.path(1) / "scorer.json"
    scorer.write_bytes(scorer.read_bytes().replace(b'"intercept":', b'"intercept":1e3+', 1))
    with pytest.raises(RegistryError, match="does not match its checksum"):
        registry.load()
