from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from bus.bus import RedisBus
from consumers.performance import PerformanceTracker, metrics_from_pairs
from schemas.catalogue import StreamName
from schemas.events import PerformanceMeasured
from spamops.settings import MonitoringSettings, Settings
from tests import factories


def test_metrics_from_pairs() -> None:
    pairs = [(True, True)] * 40 + [(True, False)] * 10 + [(False, True)] * 5 + [(False, False)] * 45
    m = metrics_from_pairs(pairs)
    assert m.n == 100 and m.accuracy == pytest.approx(0.85)
    assert m.spam_precision == pytest.approx(40 / 45) and m.spam_recall == pytest.approx(0.8)
    assert m.ham_fpr == pytest.approx(5 / 50)
    assert m.mcc == pytest.approx((40 * 45 - 5 * 10) / ((45 * 50 * 50 * 55) ** 0.5))
    assert metrics_from_pairs([(False, False)] * 3).mcc == 0.0


@pytest.fixture
def tracker_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        monitoring=MonitoringSettings(performance_window=10, performance_min_window=2)
    )


async def _measurements(bus: RedisBus) -> list[PerformanceMeasured]:
    page = await bus.read_page(StreamName.DRIFT, types=["performance.measured"])
    return [s.event for s in page.events if isinstance(s.event, PerformanceMeasured)]


async def test_joins_in_either_order_and_windows_per_version(
    tracker_settings: Settings,
) -> None:
    from fakeredis import FakeAsyncRedis

    bus = RedisBus(FakeAsyncRedis(), tracker_settings)
    tracker = PerformanceTracker(tracker_settings, bus)
    preds = [factories.prediction(f"m{i}", seq=i) for i in range(14)]
    # Half the labels arrive before their prediction, half after; 3 of 10 are wrong.
    early = [factories.feedback(p.payload.prediction_id, "spam") for p in preds[:5]]
    await tracker.handle_batch(list(early))
    await tracker.handle_batch(list(preds[:10]))
    late = [
        factories.feedback(p.payload.prediction_id, "ham" if i < 3 else "spam")
        for i, p in enumerate(preds[5:10])
    ]
    await tracker.handle_batch(list(late))
    (m,) = await _measurements(bus)
    assert m.payload.model.version == 1 and m.payload.metrics.n == 10
    assert m.payload.metrics.accuracy == pytest.approx(0.7)
    assert m.payload.metrics.ham_fpr == 1.0  # all 3 ham were called spam
    # An unmatched label waits; a stale partial window closes on tick.
    await tracker.handle_batch([factories.feedback(uuid.uuid4(), "ham")])
    await tracker.handle_batch(list(preds[10:13]))
    await tracker.handle_batch([factories.feedback(p.payload.prediction_id) for p in preds[10:13]])
    tracker.windows.max_age_ms = 0
    await tracker.tick()
    assert [x.payload.metrics.n for x in await _measurements(bus)] == [10, 3]


@pytest.mark.redis
async def test_on_real_redis_through_the_consumer_group(
    redis_bus: RedisBus, tracker_settings: Settings
) -> None:
    from tests.bus.helpers import run_until

    tracker = PerformanceTracker(tracker_settings, redis_bus)
    preds = [factories.prediction(f"m{i}", seq=i) for i in range(20)]
    await redis_bus.publish_many(preds)
    await redis_bus.publish_many([factories.feedback(p.payload.prediction_id) for p in preds])
    consumer = redis_bus.consumer(
        group=tracker.group,
        name="m1",
        streams=tracker.streams,
        handler=tracker.handle,
        event_types=tracker.event_types,
        batch_handler=tracker.handle_batch,
    )

    async def two_windows() -> bool:
        return len(await _measurements(redis_bus)) == 2

    await run_until(consumer, two_windows)
    assert all(m.payload.metrics.accuracy == 1.0 for m in await _measurements(redis_bus))
