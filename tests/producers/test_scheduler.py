from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bus.bus import RedisBus
from producers.scheduler import RetrainScheduler, cron_trigger, latest_slot
from schemas.catalogue import StreamName
from schemas.events import RetrainRequested
from spamops.settings import RetrainSettings, Settings


def test_cron_forms() -> None:
    weekly = cron_trigger("0 3 * * 0")
    t = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday
    assert weekly.get_next_fire_time(None, t) == datetime(2026, 11, 29, 3, tzinfo=UTC)
    assert latest_slot(weekly, t, timedelta(days=8)) == datetime(2026, 11, 22, 3, tzinfo=UTC)
    assert latest_slot(weekly, t, timedelta(days=1)) is None
    every2s = cron_trigger("*/2 * * * * *")
    assert latest_slot(
        every2s, datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), timedelta(seconds=10)
    ) == datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC)
    weekdays = cron_trigger("30 8 * * 1-5")  # Monday to Friday, as in crontab
    sat = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert weekdays.get_next_fire_time(None, sat) == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    assert cron_trigger("0 0 * * 7").get_next_fire_time(None, t).weekday() == 6  # Sunday
    with pytest.raises(ValueError, match="not a crontab"):
        cron_trigger("weekly")


async def _requests(bus: RedisBus) -> list[RetrainRequested]:
    page = await bus.read_page(StreamName.DECISIONS, types=["retrain.requested"], limit=1000)
    return [s.event for s in page.events if isinstance(s.event, RetrainRequested)]


def _slot(event: RetrainRequested) -> str:
    return event.payload.detail.split()[3]


@pytest.mark.redis
@pytest.mark.slow
async def test_restart_neither_loses_nor_repeats_a_run(
    redis_bus: RedisBus, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        retrain=RetrainSettings(schedule_cron="*/2 * * * * *", schedule_misfire_grace_s=60)
    )
    bus = RedisBus(redis_bus.redis, settings, component="scheduler")

    async def run_for(seconds: float) -> None:
        publisher = bus.buffered()
        await publisher.start()
        scheduler = RetrainScheduler(settings, bus, publisher)
        scheduler.start()
        await asyncio.sleep(seconds)
        scheduler.stop()
        await publisher.close()

    await run_for(4.5)
    first = await _requests(bus)
    assert len(first) >= 2
    down_from = datetime.now(UTC)
    await asyncio.sleep(2.5)  # at least one slot falls due while no scheduler runs
    missed = latest_slot(cron_trigger("*/2 * * * * *"), datetime.now(UTC), timedelta(seconds=3))
    assert missed is not None and missed > down_from
    await run_for(1.0)
    after = await _requests(bus)
    slots = [_slot(e) for e in after]
    assert len(slots) == len(set(slots)), f"a slot was requested twice: {slots}"
    assert missed.isoformat() in slots, "the slot that fell due while down was not run"
    assert all(e.payload.reason == "schedule" for e in after)


@pytest.mark.redis
async def test_two_replicas_request_each_slot_once(
    redis_bus: RedisBus, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(retrain=RetrainSettings(schedule_cron="* * * * *"))
    publishers, schedulers = [], []
    for _ in range(2):
        publisher = redis_bus.buffered()
        await publisher.start()
        publishers.append(publisher)
        schedulers.append(RetrainScheduler(settings, redis_bus, publisher))
    results = await asyncio.gather(*(s.fire() for s in schedulers))
    assert sum(r is not None for r in results) == 1
    for p in publishers:
        await p.close()
    assert len(await _requests(redis_bus)) == 1
