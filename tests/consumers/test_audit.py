"""The audit consumer: every event of every stream, exactly once, never acked before commit."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from bus.bus import RedisBus
from bus.codec import encode_event
from bus.consumer import Consumer
from consumers import runner
from consumers.audit import AuditLogger
from schemas.catalogue import StreamName
from schemas.envelope import Envelope
from spamops.settings import Settings, StoreSettings
from store.audit.read import records
from store.audit.verify import verify_database
from store.engine import read_session
from store.errors import SchemaNotCurrentError, StoreError, StoreUnavailableError
from store.tables import AuditLogRow
from tests.bus.helpers import run_until
from tests.conftest import FAST_BUS
from tests.factories import prediction
from tests.store.test_audit_story import T0, accessed, story


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The bus fixtures' settings: read batches of 7 (per stream)."""
    return make_settings(bus=FAST_BUS.model_copy(update={"read_count": 7}))


def _settings(make_settings: Callable[..., Settings], tmp_path: Path, **store: Any) -> Settings:
    return make_settings(
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        bus=FAST_BUS.model_copy(update={"read_count": 7}),
        store=StoreSettings(**store),
    )


def _rows(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditLogRow)) or 0)


async def _drain(consumer: Consumer, until: Callable[[], bool], timeout_s: float = 10) -> None:
    async def done() -> bool:
        return until()

    await run_until(consumer, done, timeout_s=timeout_s)


@pytest.fixture
async def audit(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[AuditLogger]:
    app = AuditLogger(_settings(make_settings, tmp_path))
    await app.start()
    yield app
    await app.close()


def test_it_reads_every_stream(settings: Settings, fake_bus: RedisBus) -> None:
    app = runner.build("audit", settings, fake_bus)
    assert isinstance(app, AuditLogger)
    assert set(app.streams) == set(StreamName) and app.event_types is None
    assert app.start_id == "0" and app.handle_batch is not None


@pytest.mark.redis
async def test_every_event_of_every_stream_exactly_once(
    audit: AuditLogger, redis_bus: RedisBus
) -> None:
    """N events on all nine streams, some published twice, one malformed entry: N + 1 rows
    (the malformed entry is not an event; the bus dead-letters it, and that is one)."""
    events = story().events
    await redis_bus.publish_many(events)
    await redis_bus.publish_many(events[::3])  # duplicates, as a spool flush could make
    await redis_bus.redis.xadd(redis_bus.keys.stream(StreamName.PREDICTIONS), {"event": b"{"})
    consumer = runner.as_bus_consumer(audit, redis_bus, "audit-1")
    expected = len(events) + 1
    await _drain(consumer, lambda: _rows(audit.engine) >= expected)
    settle = asyncio.get_running_loop().time() + 0.5  # redeliveries would come by then
    await _drain(consumer, lambda: asyncio.get_running_loop().time() > settle)
    assert _rows(audit.engine) == expected
    with read_session(audit.engine) as session:
        logged = list(records(session))
    assert {r.event_id for r in logged} >= {e.id for e in events}
    assert {r.stream for r in logged} == {s.value for s in StreamName}
    dead = [r for r in logged if r.type == "event.deadlettered"]
    assert len(dead) == 2 and any('"error":"invalid event' in r.event for r in dead)
    result = verify_database(audit.engine)
    assert result.ok and result.checked == expected
    assert consumer.counters.failed == 0 and audit.appended == expected


async def test_each_read_batch_is_one_transaction(audit: AuditLogger, fake_bus: RedisBus) -> None:
    commits: list[int] = []
    event.listen(audit.engine, "commit", lambda conn: commits.append(1))
    await fake_bus.publish_many([prediction(f"m{i}") for i in range(17)])
    consumer = runner.as_bus_consumer(audit, fake_bus, "a1")
    await _drain(consumer, lambda: audit.appended == 17)
    assert len(commits) == 3  # read_count 7: batches of 7, 7, 3
    assert verify_database(audit.engine).checked == 17


def _fields(event: Envelope) -> dict[Any, Any]:
    return dict(encode_event(event))


async def test_a_duplicate_never_hides_a_new_event_of_another_stream(
    audit: AuditLogger, fake_bus: RedisBus
) -> None:
    call = accessed(T0, "req-1")
    access, predictions = (fake_bus.keys.stream(s) for s in ("access", "predictions"))
    await fake_bus.redis.xadd(access, _fields(call), id="5-0")
    consumer = runner.as_bus_consumer(audit, fake_bus, "a1")
    await _drain(consumer, lambda: audit.appended == 1)
    # Pipelined XADDs to two streams in one millisecond get the same entry id.
    await fake_bus.redis.xadd(access, _fields(call), id="6-0")  # a duplicate ...
    await fake_bus.redis.xadd(predictions, _fields(prediction("new")), id="6-0")  # ... and not
    await _drain(consumer, lambda: consumer.counters.duplicates >= 1)
    assert _rows(audit.engine) == 2


async def test_redelivered_events_add_nothing(audit: AuditLogger) -> None:
    """Handled but not acknowledged (a crash between commit and XACK): handled again."""
    events = story().events
    await audit.handle_batch(events)  # type: ignore[arg-type]
    await audit.handle_batch(events[:5])  # type: ignore[arg-type]
    for e in events[-3:]:
        await audit.handle(e)  # type: ignore[arg-type]
    assert _rows(audit.engine) == len(events) and audit.duplicates == 8
    assert verify_database(audit.engine).ok


async def test_a_locked_database_leaves_events_pending_until_it_is_back(
    make_settings: Callable[..., Settings], tmp_path: Path, fake_bus: RedisBus
) -> None:
    app = AuditLogger(_settings(make_settings, tmp_path, busy_timeout_ms=300))
    await app.start()
    holder = sqlite3.connect(tmp_path / "audit.db", isolation_level=None)
    try:
        events = [prediction(f"m{i}") for i in range(6)]
        await fake_bus.publish_many(events)
        consumer = runner.as_bus_consumer(app, fake_bus, "a1")
        holder.execute("BEGIN IMMEDIATE")
        await _drain(consumer, lambda: consumer.counters.failed >= 6)
        assert consumer.counters.processed == 0  # nothing acknowledged ...
        key = fake_bus.keys.stream(StreamName.PREDICTIONS)
        pending = await fake_bus.redis.xpending(key, "audit")
        assert pending["pending"] == 6  # ... everything still pending
        with pytest.raises(StoreUnavailableError, match="failing fast"):
            await app.handle(prediction("x"))
        holder.execute("ROLLBACK")
        await _drain(consumer, lambda: _rows(app.engine) == 6)  # redelivered
        assert consumer.counters.deadlettered == 0
        await asyncio.sleep(0)
        assert verify_database(app.engine).checked == 6
    finally:
        holder.close()
        await app.close()


async def test_start_migrates_or_checks_the_schema(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    checking = AuditLogger(_settings(make_settings, tmp_path, migrate_on_start=False))
    with pytest.raises(SchemaNotCurrentError, match="spamops store upgrade"):
        await checking.start()
    await checking.close()
    with pytest.raises(StoreError, match="not started"):
        await AuditLogger(make_settings()).handle(prediction("x"))
