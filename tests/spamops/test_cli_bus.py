"""`spamops events` and `spamops deadletter` against a real Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus.bus import RedisBus
from bus.connection import connect
from bus.replies import text
from schemas.catalogue import StreamName
from spamops.cli import app
from spamops.settings import Settings
from tests import factories

pytestmark = pytest.mark.redis


@pytest.fixture
def cli_env(redis_url: str, settings: Settings) -> dict[str, str]:
    return {
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": settings.stream_prefix,
        "SPAMOPS_DATA_DIR": str(settings.data_dir),
    }


def _seed(redis_url: str, settings: Settings, coro_fn: object) -> object:
    async def go() -> object:
        bus = RedisBus(connect(redis_url, settings.bus), settings)
        try:
            return await coro_fn(bus)  # type: ignore[operator]
        finally:
            await bus.close()

    return asyncio.run(go())


def _cleanup(redis_url: str, settings: Settings) -> None:
    async def clean(bus: RedisBus) -> None:
        async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
            await bus.redis.delete(key)

    _seed(redis_url, settings, clean)


def test_replay_prints_jsonl(redis_url: str, settings: Settings, cli_env: dict[str, str]) -> None:
    events = [factories.retrain(), factories.retrain()]

    async def seed(bus: RedisBus) -> None:
        await bus.publish_many(events)

    _seed(redis_url, settings, seed)
    try:
        result = CliRunner().invoke(app, ["events", "replay", "decisions"], env=cli_env)
        assert result.exit_code == 0, result.output
        lines = [json.loads(x) for x in result.stdout.splitlines()]
        assert [x["id"] for x in lines] == [str(e.id) for e in events]
        assert all(x["entry_id"] for x in lines)
        result = CliRunner().invoke(
            app,
            ["events", "replay", "decisions", "--since", "1h", "--type", "decision.made"],
            env=cli_env,
        )
        assert result.exit_code == 0 and result.stdout == ""
        result = CliRunner().invoke(app, ["events", "stats"], env=cli_env)
        assert result.exit_code == 0 and "decisions" in result.stdout
    finally:
        _cleanup(redis_url, settings)


def test_deadletter_list_and_requeue(
    redis_url: str, settings: Settings, cli_env: dict[str, str]
) -> None:
    async def seed(bus: RedisBus) -> str:
        stream = bus.keys.stream(StreamName.FEEDBACK)
        entry = await bus.redis.xadd(stream, {"event": b"junk"})
        await bus.dead_letters.send(
            stream=stream,
            entry_id=text(entry),
            fields={b"event": b"junk"},
            group="g",
            consumer="c",
            deliveries=1,
            error="invalid event: junk",
        )
        (letter,) = await bus.dead_letters.list()
        return letter.entry_id

    letter_id = _seed(redis_url, settings, seed)
    try:
        runner = CliRunner()
        listed = runner.invoke(app, ["deadletter", "list"], env=cli_env)
        assert listed.exit_code == 0 and "feedback" in listed.stdout
        requeued = runner.invoke(app, ["deadletter", "requeue", str(letter_id)], env=cli_env)
        assert requeued.exit_code == 0 and "requeued" in requeued.stdout
        missing = runner.invoke(app, ["deadletter", "requeue", "1-1"], env=cli_env)
        assert missing.exit_code == 1 and "no dead letter" in missing.stderr
    finally:
        _cleanup(redis_url, settings)


def test_no_redis_is_a_clear_error(tmp_path: Path) -> None:
    env = {"SPAMOPS_REDIS_URL": "", "SPAMOPS_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["events", "stats"], env=env)
    assert result.exit_code == 1
    assert "SPAMOPS_REDIS_URL is unset" in result.stderr and "spamops up" in result.stderr


def test_bad_time_is_a_usage_error(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["events", "replay", "decisions", "--since", "yesterday"], env=cli_env
    )
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_schemas_export(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schemas", "export", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "prediction.made.json").exists()
