"""The projector consumer: one transaction per read batch, never acked before commit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from bus.bus import RedisBus
from bus.consumer import Consumer
from consumers import runner
from consumers.projector import Projector
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import Settings, StoreSettings
from store.engine import read_session
from store.errors import SchemaNotCurrentError, StoreError, StoreUnavailableError
from store.migrate import current_revision, head_revision
from store.projection import ProjectionResult
from store.tables import PredictionRow
from tests.bus.helpers import run_until
from tests.conftest import FAST_BUS
from tests.store import scenario


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The bus fixtures' settings: read batches of 10."""
    return make_settings(bus=FAST_BUS.model_copy(update={"read_count": 10}))


def _settings(make_settings: Callable[..., Settings], tmp_path: Path, **store: Any) -> Settings:
    return make_settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        bus=FAST_BUS.model_copy(update={"read_count": 10}),
        store=StoreSettings(**store),
    )


def _predictions(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionRow)) or 0)


async def _drain(consumer: Consumer, until: Callable[[], bool]) -> None:
    async def done() -> bool:
        return until()

    await run_until(consumer, done, timeout_s=5)


@pytest.fixture
async def projector(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Projector]:
    app = Projector(_settings(make_settings, tmp_path))
    await app.start()
    yield app
    await app.close()


def test_it_reads_every_stream_but_access_and_deadletter(
    settings: Settings, fake_bus: RedisBus
) -> None:
    app = runner.build("projector", settings, fake_bus)
    assert isinstance(app, Projector)
    assert set(StreamName) - set(app.streams) == {StreamName.ACCESS, StreamName.DEADLETTER}
    assert app.event_types is not None and "access.recorded" not in app.event_types


async def test_each_read_batch_is_one_transaction(projector: Projector, fake_bus: RedisBus) -> None:
    commits: list[int] = []
    event.listen(projector.engine, "commit", lambda conn: commits.append(1))
    await fake_bus.publish_many([scenario.prediction(f"m{i}") for i in range(25)])
    consumer = runner.as_bus_consumer(projector, fake_bus, "m1")
    await _drain(consumer, lambda: projector.projected == 25)
    assert len(commits) == 3  # read_count 10: batches of 10, 10, 5
    assert _predictions(projector.engine) == 25 and consumer.counters.failed == 0


async def test_a_refused_event_fails_alone(
    projector: Projector, fake_bus: RedisBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [scenario.prediction(f"m{i}") for i in range(5)]
    poison = events[2].id
    assert projector._projection is not None
    real = projector._projection.project

    def refusing(batch: list[Event]) -> ProjectionResult:
        if any(e.id == poison for e in batch):
            raise StoreError("refused")
        return real(batch)

    monkeypatch.setattr(projector._projection, "project", refusing)
    await fake_bus.publish_many(events)
    consumer = runner.as_bus_consumer(projector, fake_bus, "m1")
    await _drain(consumer, lambda: projector.projected == 4 and consumer.counters.failed >= 1)
    assert _predictions(projector.engine) == 4


async def test_a_locked_database_leaves_events_pending_until_it_is_back(
    make_settings: Callable[..., Settings], tmp_path: Path, fake_bus: RedisBus
) -> None:
    app = Projector(_settings(make_settings, tmp_path, busy_timeout_ms=300))
    await app.start()
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        await fake_bus.publish_many([scenario.prediction(f"m{i}") for i in range(6)])
        consumer = runner.as_bus_consumer(app, fake_bus, "m1")
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        await _drain(consumer, lambda: consumer.counters.failed >= 6)
        # One wait for the lock, then the per-event fallback fails fast (not 6 x 300 ms).
        assert time.monotonic() - started < 1.5
        assert consumer.counters.processed == 0
        with pytest.raises(StoreUnavailableError, match="failing fast"):
            await app.handle(scenario.prediction("x"))
        holder.execute("ROLLBACK")
        await _drain(consumer, lambda: _predictions(app.engine) == 6)  # redelivered
        assert consumer.counters.deadlettered == 0
    finally:
        holder.close()
        await app.close()


async def test_start_migrates_or_checks_the_schema(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    checking = Projector(_settings(make_settings, tmp_path, migrate_on_start=False))
    with pytest.raises(SchemaNotCurrentError, match="spamops store upgrade"):
        await checking.start()
    await checking.close()
    migrating = Projector(_settings(make_settings, tmp_path))
    await migrating.start()
    assert current_revision(migrating.engine) == head_revision()
    await migrating.close()


async def test_an_unreachable_database_is_a_clear_error(
    make_settings: Callable[..., Settings],
) -> None:
    app = Projector(
        make_settings(
            database_url="postgresql://spamops@127.0.0.1:9/store",
            store=StoreSettings(connect_timeout_s=1),
        )
    )
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:9.*unreachable"):
        await app.start()
    await app.close()
    with pytest.raises(StoreError, match="not started"):
        await Projector(make_settings()).handle(scenario.prediction("x"))
