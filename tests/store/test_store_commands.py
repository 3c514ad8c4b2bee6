"""`spamops store upgrade | status | rebuild` as an operator runs them."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from bus.bus import RedisBus
from bus.connection import connect
from spamops.cli import app
from spamops.settings import Settings
from store.engine import engine_for_url
from store.migrate import head_revision
from store.rebuild import row_counts
from tests.store import scenario


@pytest.fixture
def env(settings: Settings, sqlite_url: str) -> dict[str, str]:
    return {
        "SPAMOPS_DATA_DIR": str(settings.data_dir),
        "SPAMOPS_DATABASE_URL": sqlite_url,
        "SPAMOPS_STREAM_PREFIX": settings.stream_prefix,
        "SPAMOPS_REDIS_URL": "",
    }


def test_upgrade_then_status(env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["store", "status"], env=env)
    assert result.exit_code == 0, result.output
    assert "none" in result.stdout and "run `spamops store upgrade`" in result.stdout
    result = runner.invoke(app, ["store", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert f"is at revision {head_revision()}" in result.stdout
    result = runner.invoke(app, ["store", "status"], env=env)
    assert "up to date" in result.stdout and "predictions" in result.stdout
    result = runner.invoke(app, ["store", "upgrade", "--sql"], env=env)
    assert result.exit_code == 0 and "CREATE TABLE predictions" in result.stdout


def test_errors_say_cause_and_fix(env: dict[str, str]) -> None:
    bad = {**env, "SPAMOPS_DATABASE_URL": "mysql://u@h/db"}
    result = CliRunner().invoke(app, ["store", "upgrade"], env=bad)
    assert result.exit_code == 1 and "supports SQLite" in result.stderr
    result = CliRunner().invoke(app, ["store", "rebuild"], env=env)
    assert result.exit_code == 1 and "spamops up" in result.stderr  # no Redis to replay


@pytest.mark.redis
def test_rebuild_replays_the_streams(
    env: dict[str, str], redis_url: str, settings: Settings, sqlite_url: str
) -> None:
    events = scenario.history()

    async def seed() -> None:
        bus = RedisBus(connect(redis_url, settings.bus), settings)
        try:
            await bus.publish_many(events)
        finally:
            await bus.close()

    async def clean() -> None:
        bus = RedisBus(connect(redis_url, settings.bus), settings)
        try:
            async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
                await bus.redis.delete(key)
        finally:
            await bus.close()

    asyncio.run(seed())
    try:
        live_env = {**env, "SPAMOPS_REDIS_URL": redis_url}
        result = CliRunner().invoke(app, ["store", "rebuild"], env=live_env)
        assert result.exit_code == 0, result.output
        assert f"replayed {len(events) - 1} events" in result.stdout
        result = CliRunner().invoke(app, ["store", "rebuild"], env=live_env)
        assert result.exit_code == 1 and "--wipe" in result.stderr
        result = CliRunner().invoke(app, ["store", "rebuild", "--wipe"], env=live_env)
        assert result.exit_code == 0, result.output
    finally:
        asyncio.run(clean())
    engine = engine_for_url(sqlite_url)
    try:
        assert row_counts(engine)["retraining_runs"] == 3
    finally:
        engine.dispose()
