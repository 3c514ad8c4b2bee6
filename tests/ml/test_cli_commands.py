"""`spamops data fetch | train | models list|promote|rollback | predict` via CliRunner."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from ml.data import Corpus
from spamops.cli import app
from spamops.settings import Settings

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture
def cli_env(tmp_path: Path, base_settings: Settings, small_corpus: Corpus) -> dict[str, str]:
    dataset = tmp_path / "SMSSpamCollection"
    dataset.write_text(
        "".join(
            f"{lab}\t{txt}\n"
            for lab, txt in zip(small_corpus.labels, small_corpus.texts, strict=True)
        )
    )
    return {
        "COLUMNS": "200",  # rich tables: no wrapping of names
        "SPAMOPS_ENV": "test",
        "SPAMOPS_DATA_DIR": str(tmp_path / "data"),
        "SPAMOPS_MLFLOW_TRACKING_URI": base_settings.resolved_mlflow_uri,
        "SPAMOPS_REDIS_URL": UNREACHABLE_REDIS,
        "SPAMOPS_STREAM_PREFIX": f"spamops-test:{uuid.uuid4().hex[:12]}:",
        "SPAMOPS_MODEL__REGISTERED_NAME": f"spam-cli-{uuid.uuid4().hex[:8]}",
        "SPAMOPS_MODEL__DATASET_PATH": str(dataset),
        "SPAMOPS_MODEL__CACHE_DIR": str(tmp_path / "cache"),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": str(base_settings.model.artifact_root),
        "SPAMOPS_MODEL__PLOTS": "false",
    }


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_data_fetch_offline(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = cli_env | {
        "SPAMOPS_MODEL__DATA_URL": "http://127.0.0.1:9/sms.zip",
        "SPAMOPS_MODEL__DATASET_PATH": str(tmp_path / "fetched" / "SMSSpamCollection"),
    }
    result = CliRunner().invoke(app, ["data", "fetch"], env=env)
    assert result.exit_code == 1
    assert "looks offline" in result.output
    assert str(tmp_path / "fetched" / "SMSSpamCollection") in result.output


def test_data_fetch_with_a_verified_copy_in_place(
    cli_env: dict[str, str], dataset_path: Path
) -> None:
    out = _run(cli_env | {"SPAMOPS_MODEL__DATASET_PATH": str(dataset_path)}, "data", "fetch")
    assert "already present, sha256 7d039a24" in out


@pytest.mark.mlflow
def test_train_list_promote_rollback_predict_without_redis(cli_env: dict[str, str]) -> None:
    first = CliRunner().invoke(app, ["train"], env=cli_env)
    assert first.exit_code == 0, first.output
    assert "as champion" in first.output
    assert "model.promoted, model.trained not published" in first.output
    second = _run(cli_env, "train", "--candidate", "union-cnb", "--no-publish")
    assert "v2 as challenger" in second and "not published" not in second

    listing = _run(cli_env, "models", "list")
    assert "champion" in listing and "challenger" in listing and "union-cnb" in listing

    promoted = CliRunner().invoke(app, ["models", "promote", "2"], env=cli_env)
    assert promoted.exit_code == 0, promoted.output
    assert "champion -> v2 (was v1)" in promoted.output
    assert "will not hot-reload until they are restarted" in promoted.output

    spam = _run(cli_env, "predict", "WINNER!! claim your £900 prize now, call 09061701461")
    assert spam.startswith("spam") and "v2 (champion)" in spam

    rolled = _run(cli_env, "models", "rollback", "--reason", "test")
    assert "champion v2 -> v1" in rolled
    assert "v1 (champion)" in _run(cli_env, "predict", "see you at 6")

    failed = CliRunner().invoke(app, ["models", "rollback"], env=cli_env)
    assert failed.exit_code == 1
    assert "no earlier champion" in failed.output
    missing = CliRunner().invoke(app, ["models", "promote", "7"], env=cli_env)
    assert missing.exit_code == 1 and "has no version 7" in missing.output


@pytest.mark.mlflow
@pytest.mark.redis
def test_promote_publishes_model_promoted(
    cli_env: dict[str, str], redis_url: str, make_ml_settings: object
) -> None:
    env = cli_env | {"SPAMOPS_REDIS_URL": redis_url}
    _run(env, "train", "--candidate", "union-cnb")
    _run(env, "train", "--candidate", "union-cnb", "--no-publish")
    _run(env, "models", "promote", "2", "--reason", "better MCC", "--actor", "alice")
    _run(env, "models", "rollback", "--reason", "regression", "--actor", "bob")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"{env['SPAMOPS_STREAM_PREFIX']}models"
    try:
        entries: list[tuple[str, dict[str, str]]] = client.xrange(key)  # type: ignore[assignment]
    finally:
        client.delete(key)
        client.close()
    events = [
        json.loads(next(v for v in fields.values() if v.startswith("{"))) for _, fields in entries
    ]
    types = [e["type"] for e in events]
    assert types == ["model.trained", "model.promoted", "model.promoted", "model.rolled_back"]
    promoted = events[2]["payload"]
    assert (promoted["version"], promoted["previous_version"], promoted["actor"]) == (2, 1, "alice")
    rolled = events[3]["payload"]
    assert (rolled["from_version"], rolled["to_version"], rolled["reason"]) == (2, 1, "regression")


@pytest.mark.mlflow
def test_train_search_shows_progress_and_the_table(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.search
    from ml.candidates import presets

    two = [presets()["union-logreg"], presets()["union-cnb"]]
    monkeypatch.setattr(ml.search, "search_grid", lambda: two)
    out = _run(cli_env, "train", "--search", "--no-publish")
    assert "2/2" in out  # the progress bar's M of N
    assert "search: 2 candidates" in out
    assert "selected union-logreg: best" in out or "selected union-logreg: default" in out
    assert "v1 as champion" in out
