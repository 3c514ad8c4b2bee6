from __future__ import annotations

import asyncio

from bus.bus import RedisBus
from bus.codec import encode_event
from schemas.catalogue import StreamName
from schemas.events import Event, EventDeadLettered
from tests import factories
from tests.bus.helpers import run_until


class Recorder:
    """Records handled events; fails the first `fail_times` calls, or always on `poison`."""

    def __init__(self, fail_times: int = 0, poison: object = None) -> None:
        self.seen: list[Event] = []
        self.calls = 0
        self.fail_times = fail_times
        self.poison = poison

    async def __call__(self, event: Event) -> None:
        self.calls += 1
        if self.calls <= self.fail_times or event.id == self.poison:
            raise RuntimeError(f"boom {self.calls}")
        self.seen.append(event)


async def _pending(bus: RedisBus, stream: StreamName, group: str) -> int:
    info = await bus.redis.xpending(bus.keys.stream(stream), group)
    return int(info["pending"])


async def test_handles_every_event_and_acks(fake_bus: RedisBus) -> None:
    events = [factories.prediction(seq=i) for i in range(250)]
    await fake_bus.publish_many(events)
    rec = Recorder()
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.PREDICTIONS], handler=rec)
    await run_until(c, lambda: _true(len(rec.seen) == 250))
    assert [e.id for e in rec.seen] == [e.id for e in events]
    assert await _pending(fake_bus, StreamName.PREDICTIONS, "g") == 0
    assert c.counters.processed == 250


async def test_a_failing_handler_is_retried_then_succeeds(fake_bus: RedisBus) -> None:
    await fake_bus.publish(factories.retrain())
    rec = Recorder(fail_times=2)  # max_deliveries is 3 in tests
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.DECISIONS], handler=rec)
    await run_until(c, lambda: _true(len(rec.seen) == 1))
    assert rec.calls == 3 and c.counters.failed == 2 and c.counters.deadlettered == 0
    assert await _pending(fake_bus, StreamName.DECISIONS, "g") == 0


async def test_a_handler_that_keeps_failing_is_dead_lettered_with_its_error(
    fake_bus: RedisBus,
) -> None:
    poison = factories.retrain()
    await fake_bus.publish(poison)
    good = factories.retrain()
    rec = Recorder(poison=poison.id)
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.DECISIONS], handler=rec)
    await fake_bus.publish(good)
    await run_until(c, lambda: _true(c.counters.deadlettered == 1 and len(rec.seen) == 1))
    letters = await fake_bus.dead_letters.list()
    assert len(letters) == 1
    dl = letters[0].event.payload
    assert dl.stream == "decisions" and dl.group == "g" and dl.deliveries == 3
    assert "RuntimeError: boom" in dl.error
    assert str(poison.id) in dl.fields["event"]
    assert await _pending(fake_bus, StreamName.DECISIONS, "g") == 0


async def test_malformed_entries_are_dead_lettered_at_once(fake_bus: RedisBus) -> None:
    stream = fake_bus.keys.stream(StreamName.FEEDBACK)
    await fake_bus.redis.xadd(stream, {"event": b"{not json"})
    await fake_bus.redis.xadd(stream, {"type": "x", "event": b'{"type": "no.such", "payload": {}}'})
    await fake_bus.redis.xadd(stream, {"event": b'{"type": "feedback.received", "payload": {}}'})
    await fake_bus.redis.xadd(stream, {"other": b"field"})
    good = factories.feedback()
    await fake_bus.publish(good)
    rec = Recorder()
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.FEEDBACK], handler=rec)
    await run_until(c, lambda: _true(len(rec.seen) == 1 and c.counters.deadlettered == 4))
    assert rec.seen[0].id == good.id
    letters = await fake_bus.dead_letters.list()
    errors = " | ".join(dl.event.payload.error for dl in letters)
    assert "no.such" in errors and "prediction_id" in errors and "no 'event' field" in errors
    assert all(dl.event.payload.deliveries == 1 for dl in letters)


async def test_duplicate_event_ids_are_handled_once(fake_bus: RedisBus) -> None:
    event = factories.prediction()
    stream = fake_bus.keys.stream(StreamName.PREDICTIONS)
    for _ in range(3):  # the same event published three times (e.g. a spool re-flush)
        await fake_bus.redis.xadd(stream, encode_event(event))  # type: ignore[arg-type]
    rec = Recorder()
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.PREDICTIONS], handler=rec)
    await run_until(c, lambda: _true(c.counters.duplicates + c.counters.processed == 3))
    assert len(rec.seen) == 1 and c.counters.duplicates == 2


async def test_groups_are_independent_and_types_filter(fake_bus: RedisBus) -> None:
    await fake_bus.publish_many([factories.retrain(), factories.retrain()])
    a, b = Recorder(), Recorder()
    ca = fake_bus.consumer(group="a", name="x", streams=[StreamName.DECISIONS], handler=a)
    cb = fake_bus.consumer(
        group="b",
        name="x",
        streams=[StreamName.DECISIONS],
        handler=b,
        event_types={"decision.made"},
    )
    await run_until(ca, lambda: _true(len(a.seen) == 2))
    await run_until(cb, lambda: _true(cb.counters.skipped == 2))
    assert b.seen == [] and await _pending(fake_bus, StreamName.DECISIONS, "b") == 0


async def test_consumes_several_streams(fake_bus: RedisBus) -> None:
    await fake_bus.publish_many([factories.retrain(), factories.alert(), factories.feedback()])
    rec = Recorder()
    c = fake_bus.consumer(
        group="g", name="c", streams=[StreamName.DECISIONS, StreamName.ALERTS], handler=rec
    )
    await run_until(c, lambda: _true(len(rec.seen) == 2))
    assert {e.type for e in rec.seen} == {"retrain.requested", "alert.raised"}


async def test_group_is_recreated_after_the_stream_vanishes(fake_bus: RedisBus) -> None:
    rec = Recorder()
    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.DECISIONS], handler=rec)
    task = asyncio.create_task(c.run())
    await fake_bus.publish(factories.retrain())
    await _until(lambda: len(rec.seen) == 1)
    await fake_bus.redis.delete(fake_bus.keys.stream(StreamName.DECISIONS))  # like a restart
    await fake_bus.publish(factories.retrain())
    await _until(lambda: len(rec.seen) == 2)
    c.stop()
    await task
    assert c.counters.group_recreated >= 1


async def test_stop_finishes_the_batch_in_hand(fake_bus: RedisBus) -> None:
    await fake_bus.publish_many([factories.retrain() for _ in range(5)])
    consumer_ref: list[object] = []

    async def slow(event: Event) -> None:
        consumer_ref[0].stop()  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)

    c = fake_bus.consumer(group="g", name="c1", streams=[StreamName.DECISIONS], handler=slow)
    consumer_ref.append(c)
    await asyncio.wait_for(c.run(), 5)
    assert c.counters.processed == 5
    assert await _pending(fake_bus, StreamName.DECISIONS, "g") == 0


async def test_dead_letters_are_not_dead_lettered_again(fake_bus: RedisBus) -> None:
    await fake_bus.redis.xadd(fake_bus.keys.stream(StreamName.DEADLETTER), {"event": b"junk"})
    rec = Recorder()
    c = fake_bus.consumer(group="g", name="c", streams=[StreamName.DEADLETTER], handler=rec)
    await run_until(c, lambda: _pending_is_zero(fake_bus))
    assert await fake_bus.redis.xlen(fake_bus.keys.stream(StreamName.DEADLETTER)) == 1


async def test_requeue_puts_the_entry_back(fake_bus: RedisBus) -> None:
    event = factories.retrain()
    rec = Recorder(poison=event.id)
    c = fake_bus.consumer(group="g", name="c", streams=[StreamName.DECISIONS], handler=rec)
    await fake_bus.publish(event)
    await run_until(c, lambda: _true(c.counters.deadlettered == 1))
    rec.poison = None  # the consumer is fixed
    (letter,) = await fake_bus.dead_letters.list()
    assert isinstance(letter.event, EventDeadLettered)
    await fake_bus.dead_letters.requeue(letter.entry_id)
    assert await fake_bus.dead_letters.list() == []
    await run_until(c, lambda: _true(len(rec.seen) == 1))
    assert rec.seen[0].id == event.id


async def _pending_is_zero(bus: RedisBus) -> bool:
    groups = await bus.redis.xinfo_groups(bus.keys.stream(StreamName.DEADLETTER))
    return bool(groups) and all(int(g["pending"]) == 0 for g in groups)


async def _until(check: object, timeout: float = 5) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _true(value: bool) -> bool:
    return value


async def test_batches_go_to_the_batch_handler_and_poison_falls_back(fake_bus: RedisBus) -> None:
    events = [factories.retrain() for _ in range(6)]
    poison = events[3].id
    batches: list[int] = []
    singles = Recorder(poison=poison)

    async def batch(evs: list[Event]) -> None:
        if any(e.id == poison for e in evs):
            raise RuntimeError("a poison event in the batch")
        batches.append(len(evs))

    await fake_bus.publish_many(events[:3])
    c = fake_bus.consumer(
        group="g", name="c", streams=[StreamName.DECISIONS], handler=singles, batch_handler=batch
    )
    await run_until(c, lambda: _true(sum(batches) == 3))
    assert batches == [3] and singles.calls == 0
    await fake_bus.publish_many(events[3:])
    await run_until(c, lambda: _true(len(singles.seen) == 2 and c.counters.deadlettered == 1))
    assert {e.id for e in singles.seen} == {events[4].id, events[5].id}


async def test_entry_ids_repeat_across_streams_without_hiding_events(fake_bus: RedisBus) -> None:
    """Pipelined writes to two streams in one millisecond get the same entry id: a duplicate
    in one stream must not make the other stream's new event look already handled."""
    first, dup_of_first, other = factories.retrain(), None, factories.alert()
    decisions, alerts = (fake_bus.keys.stream(s) for s in (StreamName.DECISIONS, StreamName.ALERTS))
    await fake_bus.redis.xadd(decisions, encode_event(first), id="5-0")  # type: ignore[arg-type]
    rec = Recorder()
    c = fake_bus.consumer(
        group="g", name="c", streams=[StreamName.DECISIONS, StreamName.ALERTS], handler=rec
    )
    await run_until(c, lambda: _true(len(rec.seen) == 1))
    dup_of_first = encode_event(first)
    await fake_bus.redis.xadd(decisions, dup_of_first, id="6-0")  # type: ignore[arg-type]
    await fake_bus.redis.xadd(alerts, encode_event(other), id="6-0")  # type: ignore[arg-type]
    await run_until(c, lambda: _true(len(rec.seen) == 2))
    assert [e.id for e in rec.seen] == [first.id, other.id] and c.counters.duplicates == 1
