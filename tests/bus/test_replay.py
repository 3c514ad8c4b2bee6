from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bus.bus import RedisBus
from bus.replay import stream_id_at
from schemas.catalogue import StreamName
from schemas.events import Event
from tests import factories


async def test_pages_cover_everything_once(fake_bus: RedisBus) -> None:
    events = [factories.prediction(seq=i) for i in range(23)]
    await fake_bus.publish_many(events)
    got, cursor = [], None
    while True:
        page = await fake_bus.read_page(StreamName.PREDICTIONS, limit=5, cursor=cursor)
        got += [s.event.id for s in page.events]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert got == [e.id for e in events]


async def test_type_filter_and_undecodable_entries(fake_bus: RedisBus) -> None:
    await fake_bus.publish_many([factories.retrain(), factories.retrain()])
    await fake_bus.redis.xadd(
        fake_bus.keys.stream(StreamName.DECISIONS), {"type": "decision.made", "event": b"junk"}
    )
    page = await fake_bus.read_page(StreamName.DECISIONS, types=["decision.made"])
    assert page.events == [] and page.undecodable == 1
    page = await fake_bus.read_page(StreamName.DECISIONS, types=["retrain.requested"])
    assert len(page.events) == 2


async def test_time_range(fake_bus: RedisBus) -> None:
    await fake_bus.publish(factories.retrain())
    now = datetime.now(UTC)
    assert [x async for x in fake_bus.replay(StreamName.DECISIONS, since=now + timedelta(1))] == []
    items = [x async for x in fake_bus.replay(StreamName.DECISIONS, until=now + timedelta(1))]
    assert len(items) == 1
    assert stream_id_at(datetime.fromtimestamp(1, UTC)) == "1000-0"


async def test_tail_sees_only_new_events(fake_bus: RedisBus) -> None:
    await fake_bus.publish(factories.alert("old"))
    received: list[Event] = []

    async def follow() -> None:
        async for item in fake_bus.tail(StreamName.ALERTS, types=["alert.raised"]):
            received.append(item.event)
            if len(received) == 2:
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    await fake_bus.publish_many([factories.alert("new1"), factories.alert("new2")])
    await asyncio.wait_for(task, 5)
    assert [e.payload.dedupe_key for e in received] == ["new1", "new2"]  # type: ignore[union-attr]


async def test_stats_report_length_pending_and_lag(fake_bus: RedisBus) -> None:
    await fake_bus.publish_many([factories.retrain() for _ in range(3)])
    await fake_bus.redis.xgroup_create(fake_bus.keys.stream(StreamName.DECISIONS), "g", id="0")
    stats = {s.stream: s for s in await fake_bus.stats()}
    decisions = stats[StreamName.DECISIONS]
    assert decisions.length == 3
    (group,) = decisions.groups
    assert group.name == "g" and group.pending == 0 and group.lag == 3
    assert stats[StreamName.ALERTS].length == 0 and stats[StreamName.ALERTS].groups == ()


def test_stream_ids_stay_in_range() -> None:
    from bus.replay import valid_stream_id

    assert stream_id_at(datetime(1900, 1, 1, tzinfo=UTC)) == "0-0"
    assert valid_stream_id("1-2") and valid_stream_id(f"{2**64 - 1}-0")
    assert (
        not valid_stream_id(f"{2**64}-0")
        and not valid_stream_id("1")
        and not valid_stream_id("a-1")
    )
