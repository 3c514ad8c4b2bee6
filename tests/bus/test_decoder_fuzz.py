"""Fuzzing the event decoder and the consumer behind it (hypothesis).

Whatever a stream entry holds — arbitrary field maps, bytes that are not JSON, JSON of any
shape, real events with mutated fields or corrupted bytes — `bus.codec.decode_fields`
either returns a valid event or raises `EventDecodeError`, the one error the consumer
dead-letters; nothing else may escape, since anything else would crash the consumer's
loop. Then a real `Consumer` (on fakeredis) reads hypothesis-made garbage entries mixed
with valid events: every garbage entry lands in `deadletter`, every valid event is
handled, and the consumer handles a valid event published after all of it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bus.bus import RedisBus
from bus.codec import decode_fields, encode_event
from bus.replies import entries, text
from schemas.catalogue import STREAM_OF_TYPE, StreamName
from schemas.errors import EventDecodeError
from schemas.events import EVENT_CLASSES, Event, EventDeadLettered
from spamops.settings import Settings
from tests import factories
from tests.bus.helpers import run_until
from tests.schemas.strategies import model_strategy

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TYPES = sorted(EVENT_CLASSES)


def decodes_or_refuses(fields: Any) -> Event | None:
    """The contract: an event, or `EventDecodeError` (None); any other exception fails."""
    try:
        return decode_fields(fields)
    except EventDecodeError:
        return None


# -- values a stream entry or a JSON body can hold ---------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    # strings that look like what the envelope expects, near the edges of their types
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01",
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "",
            "\x00",
            "\ud800",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
envelope_keys = st.sampled_from(
    ["id", "type", "schema", "occurred_at", "source", "correlation", "payload"]
)
envelope_like = st.dictionaries(
    st.one_of(envelope_keys, st.text(max_size=10)),
    st.one_of(json_values, st.sampled_from(TYPES)),
    max_size=9,
)
raw_values = st.one_of(st.binary(max_size=200), st.text(max_size=200), st.integers(), st.none())
field_names = st.one_of(
    st.sampled_from([b"id", b"type", b"event", "event", "id"]), st.binary(max_size=8)
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# -- the decoder -------------------------------------------------------------------------


@FUZZ
@given(fields=st.dictionaries(field_names, raw_values, max_size=5))
def test_arbitrary_entry_fields(fields: dict[Any, Any]) -> None:
    decodes_or_refuses(fields)


@FUZZ
@given(body=st.binary(max_size=500))
@example(body=b"\xff\xfe{not json")
@example(body=b"[" * 50_000)
@example(body=b'{"type": "prediction.made"' + b" " * 10_000)
def test_arbitrary_bytes_as_the_event_body(body: bytes) -> None:
    decodes_or_refuses({b"event": body})


@FUZZ
@given(body=st.one_of(envelope_like, json_values))
def test_arbitrary_json_as_the_event_body(body: Any) -> None:
    decodes_or_refuses({b"event": _dumps(body)})


@st.composite
def real_events(draw: st.DrawFn) -> Any:
    return draw(model_strategy(EVENT_CLASSES[draw(st.sampled_from(TYPES))]))


@FUZZ
@given(event=real_events(), key=envelope_keys, value=json_values, drop=st.booleans())
@example(
    event=factories.feedback(),
    key="occurred_at",
    value="0001-01-01T00:00:00+14:00",
    drop=False,
)
def test_real_events_with_one_field_changed(event: Any, key: str, value: Any, drop: bool) -> None:
    wire = json.loads(event.to_json())
    if drop:
        wire.pop(key, None)
    else:
        wire[key] = value
    decoded = decodes_or_refuses({b"event": _dumps(wire)})
    if decoded is not None:
        assert decoded.type in EVENT_CLASSES


@FUZZ
@given(event=real_events(), data=st.data())
def test_real_events_with_payload_fields_changed(event: Any, data: st.DataObject) -> None:
    wire = json.loads(event.to_json())
    payload = wire["payload"]
    if payload:
        key = data.draw(st.sampled_from(sorted(payload)))
        payload[key] = data.draw(json_values)
    payload[data.draw(st.text(max_size=8))] = data.draw(json_values)
    decodes_or_refuses({b"event": _dumps(wire)})


@FUZZ
@given(event=real_events(), data=st.data())
def test_real_events_with_corrupted_bytes(event: Any, data: st.DataObject) -> None:
    raw = bytearray(event.to_json())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    decodes_or_refuses({b"event": bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw)})


@FUZZ
@given(event=real_events())
def test_real_events_round_trip(event: Any) -> None:
    assert decode_fields(encode_event(event)) == event


# -- the consumer ------------------------------------------------------------------------

garbage_entries = st.one_of(
    st.dictionaries(
        field_names, st.one_of(st.binary(max_size=60), st.text(max_size=60)), min_size=1, max_size=4
    ),
    st.builds(lambda body: {b"event": _dumps(body)}, envelope_like),
    st.builds(lambda body: {b"event": body}, st.binary(max_size=80)),
)


@pytest.fixture
def settings_for_fuzz(make_settings: Any) -> Settings:
    settings: Settings = make_settings()
    return settings


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    garbage=st.lists(garbage_entries, min_size=1, max_size=12),
    n_valid=st.integers(0, 5),
    data=st.data(),
)
async def test_a_consumer_dead_letters_garbage_and_goes_on(
    settings_for_fuzz: Settings, garbage: list[dict[Any, Any]], n_valid: int, data: st.DataObject
) -> None:
    bus = RedisBus(FakeAsyncRedis(server=FakeServer()), settings_for_fuzz, component="fuzz")
    stream = bus.keys.stream(StreamName.FEEDBACK)
    sends: list[tuple[str, Any]] = [("garbage", g) for g in garbage]
    sends += [("valid", factories.feedback()) for _ in range(n_valid)]
    poison_ids: set[str] = set()
    good: list[Event] = []
    for kind, item in data.draw(st.permutations(sends)):
        if kind == "valid":
            await bus.publish(item)
            good.append(item)
            continue
        entry_id = text(await bus.redis.xadd(stream, item))
        event = decodes_or_refuses(item)
        if event is None:
            poison_ids.add(entry_id)
        else:  # hypothesis made a valid event: it must be handled like one
            good.append(event)
    handled: list[Event] = []

    async def handle(event: Event) -> None:
        handled.append(event)

    consumer = bus.consumer(
        group="fuzz", name="fuzz-1", streams=[StreamName.FEEDBACK], handler=handle
    )
    last = entries(await bus.redis.xrevrange(stream, count=1))[0][0]

    async def drained() -> bool:
        groups = await bus.redis.xinfo_groups(stream)
        if not groups:  # the consumer has not created its group yet
            return False
        (group,) = groups
        pending = await bus.redis.xpending(stream, "fuzz")
        return bool(pending["pending"] == 0 and text(group["last-delivered-id"]) == last)

    await run_until(consumer, drained, timeout_s=10)
    letters = [
        e
        for _, fields in entries(await bus.redis.xrange(bus.keys.stream(StreamName.DEADLETTER)))
        if isinstance(e := decode_fields(fields), EventDeadLettered)
    ]
    assert sorted(d.payload.entry_id for d in letters) == sorted(poison_ids)
    assert all(d.payload.stream == "feedback" and d.payload.group == "fuzz" for d in letters)
    assert sorted(str(e.id) for e in handled) == sorted(str(e.id) for e in good)
    # ... and it is still alive: a valid event published now is handled.
    after = factories.feedback()
    await bus.publish(after)

    async def handled_after() -> bool:
        return any(e.id == after.id for e in handled)

    await run_until(consumer, handled_after, timeout_s=10)
    assert consumer.counters.deadlettered == len(poison_ids)
    await bus.close()


def test_the_stream_of_every_type_is_known() -> None:
    """The fuzz draws from every event class; each belongs to a stream of the catalogue."""
    assert set(TYPES) == set(STREAM_OF_TYPE)
