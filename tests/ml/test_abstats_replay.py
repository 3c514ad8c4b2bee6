"""`spamops abtest replay` against real registered models and a real store."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from ml.data import Corpus
from ml.registry import ModelRegistry
from ml.tracking import LoggedRun
from ml.training import TrainingResult
from spamops.cli import app
from spamops.settings import Settings
from store.engine import engine_for_url
from store.migrate import upgrade
from tests.consumers.test_abtest import feedback, prediction
from tests.store.helpers import project

pytestmark = pytest.mark.mlflow

MESSAGES = 600


@pytest.fixture
def replay_env(
    tmp_path: Path, trained: tuple[Settings, TrainingResult], small_corpus: Corpus
) -> dict[str, str]:
    """Two versions of one model (the same scorer at thresholds 0.5 and 0.97) and a store
    holding 600 labelled predictions of corpus messages."""
    session_settings, result = trained
    name = f"spam-replay-{uuid.uuid4().hex[:8]}"
    env = {
        "COLUMNS": "200",
        "SPAMOPS_ENV": "test",
        "SPAMOPS_DATA_DIR": str(tmp_path / "data"),
        "SPAMOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SPAMOPS_MLFLOW_TRACKING_URI": session_settings.resolved_mlflow_uri,
        "SPAMOPS_MODEL__REGISTERED_NAME": name,
        "SPAMOPS_MODEL__CACHE_DIR": str(tmp_path / "cache"),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": str(session_settings.model.artifact_root),
    }
    mv = MlflowClient(session_settings.resolved_mlflow_uri).get_model_version(
        session_settings.model.registered_name, str(result.model.version)
    )
    logged = LoggedRun(result.run_id, str(mv.source), mv.tags["scorer_sha256"])
    top = session_settings.model_dump(exclude={"model"})
    model = session_settings.model.model_copy(
        update={"registered_name": name, "cache_dir": tmp_path / "cache"}
    )
    registry = ModelRegistry(Settings(_env_file=None, **top, model=model))
    for threshold in (0.5, 0.97):
        registry.register(logged, result.metrics, candidate="union-logreg", threshold=threshold)

    engine = engine_for_url(env["SPAMOPS_DATABASE_URL"])
    upgrade(engine)
    rows = list(zip(small_corpus.texts, small_corpus.labels, strict=True))[-MESSAGES:]
    events = []
    for text, label in rows:
        p = prediction(None, "champion", "ham")
        p = p.model_copy(update={"payload": p.payload.model_copy(update={"text": text})})
        events += [p, feedback(p, label)]
    project(engine, events)
    engine.dispose()
    return env


def _run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["abtest", "replay", *args], env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_replay_reports_the_paired_statistics(
    replay_env: dict[str, str], small_corpus: Corpus
) -> None:
    report = json.loads(
        _run(
            replay_env,
            "--challenger",
            "2",
            "--since",
            "1h",
            "--min-samples",
            "100",
            "--format",
            "json",
        )
    )
    assert (report["champion_version"], report["challenger_version"], report["n"]) == (
        1,
        2,
        MESSAGES,
    )
    champion, challenger = report["arms"]
    assert champion["n"] == challenger["n"] == MESSAGES
    assert champion["predictions"] == MESSAGES and champion["latency_p50_ms"] > 0
    # A threshold of 0.97 calls less spam: recall can only drop, the ham FPR only fall.
    assert challenger["spam_recall"] <= champion["spam_recall"]
    assert challenger["ham_fpr"] <= champion["ham_fpr"]
    d = report["discordant"]
    assert report["effect"] == pytest.approx(
        (d["challenger_only_wrong"] - d["champion_only_wrong"]) / MESSAGES
    )
    assert challenger["errors"] - champion["errors"] == (
        d["challenger_only_wrong"] - d["champion_only_wrong"]
    )
    assert report["ci_low"] <= report["effect"] <= report["ci_high"]
    assert 0 <= report["mcnemar_p"] <= 1 and 0 <= report["p_value"] <= 1
    assert report["verdict"] in ("continue", "significant", "futility")
    if report["verdict"] == "significant":
        assert report["winner"] == "champion" and report["stopped_at"] is not None

    table = _run(replay_env, "--challenger", "2", "--since", "1h", "--limit", "50")
    assert "replay: v2 against v1 on 50 labelled messages" in table
    assert "too few samples" in table and "always-valid" in table


def test_replay_refuses_what_it_cannot_compare(replay_env: dict[str, str]) -> None:
    assert "is the champion" in _run(replay_env, "--challenger", "1", "--since", "1h", code=1)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert "no labelled messages" in _run(replay_env, "--challenger", "2", "--since", later, code=1)
    assert "has no version 9" in _run(replay_env, "--challenger", "9", "--since", "1h", code=1)
