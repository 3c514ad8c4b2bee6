"""`spamops decisions replay` against a real Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bus.bus import RedisBus
from bus.connection import connect
from spamops.cli import app
from spamops.settings import Settings
from tests.consumers.agent import builders as b

pytestmark = pytest.mark.redis


@pytest.fixture
def cli_env(redis_url: str, settings: Settings) -> Iterator[dict[str, str]]:
    t0 = datetime.now(UTC) - timedelta(hours=2)
    severe, calm = b.drift(0.4, at=t0), b.drift(0.02, at=t0 + timedelta(minutes=30))
    events = [
        b.promoted(1, None, at=t0 - timedelta(days=1)),
        severe,
        b.decision_made("alert", (severe.id,), at=t0 + timedelta(seconds=1)),
        calm,
        b.decision_made("wait", (calm.id,), at=t0 + timedelta(minutes=30, seconds=1)),
        b.decision_made("retrain", (uuid.uuid4(),), at=t0 + timedelta(hours=1)),
    ]

    async def run(seed: bool) -> None:
        bus = RedisBus(connect(redis_url, settings.bus), settings)
        try:
            if seed:
                await bus.publish_many(events)
            else:
                async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
                    await bus.redis.delete(key)
        finally:
            await bus.close()

    asyncio.run(run(seed=True))
    yield {
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": settings.stream_prefix,
        "SPAMOPS_DATA_DIR": str(settings.data_dir),
    }
    asyncio.run(run(seed=False))


def test_replay_lists_what_would_differ_as_jsonl(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["decisions", "replay", "--since", "1d", "--format", "jsonl"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["status"] for x in lines] == ["differs", "incomplete"]
    differs = lines[0]
    assert differs["recorded"]["action"] == "alert" and differs["replayed"]["action"] == "retrain"
    assert differs["trigger_type"] == "drift.measured" and lines[1]["missing"]
    assert "3 decisions replayed: 1 would differ, 1 incomplete" in result.stderr


def test_replay_table_and_all(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["decisions", "replay", "--since", "1d", "--all"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "differs" in result.stdout and "same" in result.stdout
    assert "rule: alert" in result.stdout and "retrain" in result.stdout
    quiet = CliRunner().invoke(app, ["decisions", "replay", "--since", "5m"], env=cli_env)
    assert quiet.exit_code == 0 and "0 decisions replayed: 0 would differ" in quiet.stdout
