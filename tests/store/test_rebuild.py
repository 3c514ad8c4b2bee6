"""Rebuild: replaying the streams into an empty database gives the live tables, row for row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import cast

import pytest
from sqlalchemy import Engine

from bus.bus import RedisBus
from consumers.projector import Projector
from consumers.runner import as_bus_consumer
from schemas.envelope import Envelope
from schemas.events import Event
from spamops.settings import Settings
from store.errors import StoreError, StoreNotEmptyError
from store.projection import Projection, ProjectionResult
from store.rebuild import rebuild, row_counts, stream_events
from tests.conftest import FAST_BUS
from tests.store import scenario
from tests.store.helpers import project, snapshot


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The bus fixtures' settings: small read batches, so the live projector runs several."""
    return make_settings(bus=FAST_BUS.model_copy(update={"read_count": 7}))


async def _publish(bus: RedisBus, events: list[Envelope]) -> None:
    # Some events twice (as a spool flush after a partial pipeline would), out of order.
    await bus.publish_many(events)
    await bus.publish_many(list(reversed(events[:6])))


async def _project_live(settings: Settings, bus: RedisBus, expected_rows: int) -> None:
    """Run the real projector as a consumer-group member until the store holds the rows."""
    projector = Projector(settings)
    await projector.start()
    consumer = as_bus_consumer(projector, bus, "live-1")
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(20):
            while sum(row_counts(projector.engine).values()) < expected_rows:
                await asyncio.sleep(0.02)
    finally:
        consumer.stop()
        await task
        await projector.close()


async def _rebuild_equals_live(
    bus: RedisBus,
    make_settings: Callable[..., Settings],
    new_database: Callable[[], str],
    make_engine: Callable[..., Engine],
) -> None:
    events = scenario.history()
    await _publish(bus, events)
    reference = make_engine(new_database())
    project(reference, events)
    expected = snapshot(reference)
    live_url = new_database()
    settings = make_settings(
        database_url=live_url, bus=FAST_BUS.model_copy(update={"read_count": 7})
    )
    await _project_live(settings, bus, sum(len(rows) for rows in expected.values()))
    live = make_engine(live_url)
    assert snapshot(live) == expected

    rebuilt = make_engine(new_database(), migrate=False)  # rebuild migrates it
    report = await rebuild(rebuilt, stream_events(bus), batch_size=10)
    assert snapshot(rebuilt) == snapshot(live)
    assert report.events == len(events) - 1 + 6  # no access.recorded; duplicates replayed
    assert report.rejected == [] and report.rows == row_counts(live)


async def test_rebuild_equals_live_on_fakeredis(
    fake_bus: RedisBus,
    make_settings: Callable[..., Settings],
    new_database: Callable[[], str],
    make_engine: Callable[..., Engine],
) -> None:
    await _rebuild_equals_live(fake_bus, make_settings, new_database, make_engine)


@pytest.mark.redis
async def test_rebuild_equals_live_on_redis(
    redis_bus: RedisBus,
    make_settings: Callable[..., Settings],
    new_database: Callable[[], str],
    make_engine: Callable[..., Engine],
) -> None:
    await _rebuild_equals_live(redis_bus, make_settings, new_database, make_engine)


async def _iterate(events: list[Envelope]) -> AsyncIterator[Event]:
    for event in events:
        yield cast(Event, event)


async def test_rebuild_refuses_a_filled_database_unless_wiped(
    sqlite_url: str, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(sqlite_url)
    events = scenario.history()
    project(engine, events[:3])
    with pytest.raises(StoreNotEmptyError, match=r"predictions \(3\).*--wipe"):
        await rebuild(engine, _iterate(events))
    report = await rebuild(engine, _iterate(events), wipe_first=True)
    assert report.rows["predictions"] == 4


async def test_events_the_database_refuses_are_skipped_and_reported(
    sqlite_url: str, make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = scenario.history()
    poison = events[2]

    class Refusing(Projection):
        def project(self, batch: Iterable[Event]) -> ProjectionResult:
            batch = list(batch)
            if any(e.id == poison.id for e in batch):
                raise StoreError("refused")
            return super().project(batch)

    monkeypatch.setattr("store.rebuild.Projection", Refusing)
    report = await rebuild(make_engine(sqlite_url), _iterate(events), batch_size=5)
    assert report.rejected == [(poison.id, "refused")]
    assert report.rows["predictions"] == 3


async def test_stream_events_reads_the_projected_streams_only(fake_bus: RedisBus) -> None:
    events = scenario.history()
    await fake_bus.publish_many(events)
    replayed = [e.id async for e in stream_events(fake_bus)]
    assert sorted(replayed) == sorted(e.id for e in events if e.type != "access.recorded")
