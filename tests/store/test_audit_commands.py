"""`spamops audit verify | head | export | explain | backfill` as an auditor runs them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bus.bus import RedisBus
from bus.connection import connect
from spamops.cli import app
from spamops.settings import Settings
from store.audit.chain import AuditChain
from store.audit.read import records
from store.engine import engine_for_url, read_session
from store.migrate import upgrade
from tests.store.test_audit_story import story

N = len(story().events)


@pytest.fixture
def env(settings: Settings, sqlite_url: str) -> dict[str, str]:
    return {
        "SPAMOPS_DATA_DIR": str(settings.data_dir),
        "SPAMOPS_DATABASE_URL": sqlite_url,
        "SPAMOPS_STREAM_PREFIX": settings.stream_prefix,
        "SPAMOPS_REDIS_URL": "",
    }


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Engine]:
    engine = engine_for_url(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["audit", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_verify_head_export_and_reverify(env: dict[str, str], db: Engine, tmp_path: Path) -> None:
    code, out, _ = _run(env, "verify")
    assert code == 0 and "0 rows" in out
    code, _, err = _run(env, "head")
    assert code == 1 and "empty" in err
    AuditChain(db).append(story().events)
    code, out, _ = _run(env, "verify")
    assert code == 0 and f"OK: audit log: {N} rows" in out
    code, anchor, _ = _run(env, "head")
    assert code == 0 and anchor.startswith(f"{N}:")
    code, out, _ = _run(env, "head", "--json")
    assert json.loads(out)["anchor"] == anchor.strip()
    export = tmp_path / "audit.jsonl"
    code, _, err = _run(env, "export", "-o", str(export))
    assert code == 0 and f"exported {N} rows 1–{N}" in err
    assert len(export.read_text(encoding="utf-8").splitlines()) == N
    code, out, _ = _run(env, "verify", "--file", str(export), "--anchor", anchor.strip())
    assert code == 0 and f"{N} rows, chain intact" in out
    code, out, _ = _run(env, "verify", "--file", str(export), "--anchor", f"{N}:{'0' * 64}")
    assert code == 1 and "(anchor)" in out
    code, out, _ = _run(env, "export", "--from-seq", "3", "--to-seq", "4")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == [3, 4]


def test_verify_exits_1_at_the_first_broken_row(env: dict[str, str], db: Engine) -> None:
    AuditChain(db).append(story().events)
    with db.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        connection.execute(text("DELETE FROM audit_log WHERE seq IN (4, 9)"))
    code, out, _ = _run(env, "verify")
    assert code == 1 and "BROKEN at row 4" in out and "(missing)" in out
    code, out, _ = _run(env, "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["broken"]["seq"] == 4
    assert report["checked"] == 3


def test_verify_exits_2_when_it_cannot_check(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = _run({**env, "SPAMOPS_DATABASE_URL": "mysql://u@h/db"}, "verify")
    assert code == 2 and "supports SQLite" in err
    code, _, err = _run(env, "verify", "--file", str(tmp_path / "absent.jsonl"))
    assert code == 2
    code, _, err = _run(env, "verify", "--anchor", "12:abc")
    assert code == 2 and "SEQ:HASH" in err


def test_explain(env: dict[str, str], db: Engine) -> None:
    tale = story()
    AuditChain(db).append(tale.events)
    pid = str(tale.prediction.payload.prediction_id)
    code, out, _ = _run(env, "explain", pid)
    assert code == 0, out
    assert "classified by spam-classifier v1 (champion), variant champion, request req-42" in out
    assert "who called" in out and "sms-gateway (predict)" in out and "same request id" in out
    assert "model.promoted" in out and "rolled back v2 → v1" in out
    assert "WIN a prize" not in out
    code, out, _ = _run(env, "explain", pid, "--json")
    assert code == 0 and len(json.loads(out)["followed"]) == len(tale.followed)
    code, _, err = _run(env, "explain", "0190a6c4-0000-7000-8000-000000000000")
    assert code == 1 and "no prediction" in err


@pytest.mark.redis
def test_backfill_appends_what_the_streams_hold(
    env: dict[str, str], db: Engine, redis_url: str, settings: Settings
) -> None:
    events = story().events

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

    AuditChain(db).append(events[:5])
    asyncio.run(seed())
    live = {**env, "SPAMOPS_REDIS_URL": redis_url}
    try:
        code, out, _ = _run(live, "backfill", "--dry-run")
        assert code == 0 and f"log lacked {N - 5}" in out and "would append" in out
        code, out, _ = _run(live, "backfill")
        assert code == 0 and f"appended {N - 5}" in out
        code, out, _ = _run(live, "backfill")
        assert code == 0 and "log lacked 0" in out
    finally:
        asyncio.run(clean())
    with read_session(db) as session:
        rows = list(records(session))
    assert len(rows) == N and {r.event_id for r in rows} == {e.id for e in events}
    assert all(r.entry_id for r in rows[5:])  # the replay knows the stream entry ids
    assert _run(env, "verify")[0] == 0
