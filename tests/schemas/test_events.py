"""Every event type round-trips through the wire form, for any valid payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings

from schemas import EVENT_CLASSES, STREAM_OF_TYPE, EventDecodeError, decode_event
from schemas.envelope import Envelope
from tests import factories
from tests.schemas.strategies import model_strategy


@pytest.mark.parametrize("event_type", sorted(EVENT_CLASSES))
def test_every_event_type_round_trips(event_type: str) -> None:
    cls = EVENT_CLASSES[event_type]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event=model_strategy(cls))
    def check(event: Envelope) -> None:
        decoded = decode_event(event.to_json())
        assert type(decoded) is cls
        assert decoded == event
        assert decode_event(json.loads(event.to_json())) == event

    check()


def test_catalogue_covers_every_event_type() -> None:
    assert set(STREAM_OF_TYPE) == set(EVENT_CLASSES)


def test_envelope_defaults() -> None:
    event = factories.prediction()
    assert event.id.version == 7
    assert event.correlation == event.id
    assert event.occurred_at.tzinfo is not None
    assert event.schema_version == 1
    wire = json.loads(event.to_json())
    assert wire["schema"] == 1 and wire["type"] == "prediction.made"


def test_ids_are_time_ordered() -> None:
    ids = [factories.alert().id for _ in range(50)]
    assert ids == sorted(ids)


def test_occurred_at_is_normalised_to_utc() -> None:
    local = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    event = factories.alert().model_copy(update={"occurred_at": local})
    decoded = decode_event(event.to_json())
    assert decoded.occurred_at == local
    assert decoded.occurred_at.utcoffset() == UTC.utcoffset(None)


def test_events_are_frozen() -> None:
    event = factories.retrain()
    with pytest.raises(ValueError, match="frozen"):
        event.source = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "invalid event"),
        (b'{"type": "no.such.type", "payload": {}}', "no.such.type"),
        (b'{"type": "feedback.received", "payload": {}}', "prediction_id"),
        (b"[]", "invalid event"),
    ],
)
def test_bad_input_is_a_clear_decode_error(raw: bytes, message: str) -> None:
    with pytest.raises(EventDecodeError, match=message):
        decode_event(raw)


def test_unknown_fields_are_rejected() -> None:
    wire = json.loads(factories.feedback().to_json())
    wire["payload"]["surprise"] = 1
    with pytest.raises(EventDecodeError, match="surprise"):
        decode_event(json.dumps(wire))
