from __future__ import annotations

from datetime import timedelta

from bus.bus import RedisBus
from bus.codec import decode_fields
from bus.publisher import Trim
from bus.replies import entries
from schemas.catalogue import StreamName
from spamops.settings import RetentionSettings, Settings, StreamRetention
from tests import factories


async def test_publish_writes_to_the_stream_of_the_type(fake_bus: RedisBus) -> None:
    event = factories.prediction()
    entry_id = await fake_bus.publish(event)
    rows = entries(await fake_bus.redis.xrange(fake_bus.keys.stream(StreamName.PREDICTIONS)))
    assert [r[0] for r in rows] == [entry_id]
    fields = rows[0][1]
    assert fields[b"type"] == b"prediction.made"
    assert fields[b"id"] == str(event.id).encode()
    assert decode_fields(fields) == event


async def test_publish_many_keeps_order_across_streams(fake_bus: RedisBus) -> None:
    events = [factories.prediction(seq=i) for i in range(5)] + [factories.retrain()]
    ids = await fake_bus.publish_many(events)
    assert len(ids) == 6
    rows = entries(await fake_bus.redis.xrange(fake_bus.keys.stream(StreamName.PREDICTIONS)))
    assert [decode_fields(f).id for _, f in rows] == [e.id for e in events[:5]]
    assert await fake_bus.redis.xlen(fake_bus.keys.stream(StreamName.DECISIONS)) == 1
    assert await fake_bus.publish_many([]) == []


async def test_maxlen_retention_is_applied_on_write(make_settings: object) -> None:
    from fakeredis import FakeAsyncRedis

    settings: Settings = make_settings(  # type: ignore[operator]
        retention=RetentionSettings(predictions=StreamRetention(maxlen=10))
    )
    bus = RedisBus(FakeAsyncRedis(), settings)
    await bus.publish_many([factories.prediction(seq=i) for i in range(50)])
    # Approximate trimming may keep a little more than asked, never everything.
    assert 10 <= await bus.redis.xlen(bus.keys.stream(StreamName.PREDICTIONS)) < 50


def test_trim_arguments() -> None:
    assert Trim(maxlen=5).xadd_kwargs(0) == {"maxlen": 5, "approximate": True}
    assert Trim(max_age_ms=1000).xadd_kwargs(5000) == {"minid": "4000", "approximate": True}
    assert Trim().xadd_kwargs(0) == {}


def test_every_stream_has_a_retention(settings: Settings) -> None:
    from schemas.catalogue import catalogue

    for spec in catalogue(settings).values():
        assert spec.retention.maxlen or spec.retention.max_age
    assert catalogue(settings)[StreamName.FEEDBACK].retention.max_age == timedelta(days=90)
