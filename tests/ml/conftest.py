"""Fixtures of the ml tests: the corpus, one fitted default model, one MLflow store.

Fitting the default model (~3 s) and creating an MLflow SQLite store (~2 s of migrations)
happen once per session. Tests that register models use their own registered-model name
and cache directory on the shared store, so they stay independent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml.candidates import get_candidate
from ml.data import Corpus, load_corpus, parse_corpus
from ml.fitting import FittedModel, TrainingData, fit_candidate, prepare_data, single_threaded
from ml.training import TrainingResult, train_and_register
from schemas.common import Label
from spamops.settings import ModelSettings, Settings


@pytest.fixture(scope="session")
def corpus(dataset_path: Path) -> Corpus:
    return load_corpus(dataset_path)


@pytest.fixture(scope="session")
def small_corpus(corpus: Corpus) -> Corpus:
    """Every third message (1,858 rows, both classes): a real but fast training set."""
    lines = [f"{lab}\t{txt}" for lab, txt in zip(corpus.labels, corpus.texts, strict=True)][::3]
    return parse_corpus(("\n".join(lines) + "\n").encode(), "small-corpus")


@pytest.fixture(scope="session")
def base_settings(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("ml-session")
    return Settings(
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


@pytest.fixture
def make_ml_settings(base_settings: Settings, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on the shared MLflow store with this test's own model name and cache."""
    name = f"spam-test-{uuid.uuid4().hex[:10]}"

    def build(**model: Any) -> Settings:
        values = base_settings.model.model_dump() | {
            "registered_name": name,
            "cache_dir": tmp_path / "cache",
        }
        values.update(model)
        top = {k: v for k, v in base_settings.model_dump().items() if k != "model"}
        return Settings(_env_file=None, **top, model=ModelSettings(**values))

    return build


@pytest.fixture(scope="session")
def training_data(base_settings: Settings, corpus: Corpus) -> TrainingData:
    return prepare_data(base_settings, corpus=corpus)


@pytest.fixture(scope="session")
def fitted(base_settings: Settings, training_data: TrainingData) -> FittedModel:
    """The default candidate fitted on the full training split (no MLflow)."""
    with single_threaded():
        return fit_candidate(get_candidate("union-logreg"), training_data, base_settings)


@pytest.fixture(scope="session")
def trained(base_settings: Settings, small_corpus: Corpus) -> tuple[Settings, TrainingResult]:
    """One real `train_and_register` run (small corpus) on the shared MLflow store."""
    values = base_settings.model.model_dump() | {"registered_name": "spam-session", "plots": True}
    top = {k: v for k, v in base_settings.model_dump().items() if k != "model"}
    settings = Settings(_env_file=None, **top, model=ModelSettings(**values))
    extra: list[tuple[str, Label]] = [
        ("WIN a FREE cruise!! txt CRUISE to 80088 now", "spam"),
        ("see you at 6 then", "ham"),
    ]
    return settings, train_and_register(settings, corpus=small_corpus, extra=extra)
