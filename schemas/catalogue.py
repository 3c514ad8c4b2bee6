"""The stream catalogue: which stream carries which event types, and how long it keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from spamops.settings import Settings, StreamRetention

__all__ = ["STREAM_OF_TYPE", "StreamName", "StreamSpec", "catalogue", "stream_for"]


class StreamName(StrEnum):
    PREDICTIONS = "predictions"
    FEEDBACK = "feedback"
    DRIFT = "drift"
    DECISIONS = "decisions"
    MODELS = "models"
    ABTESTS = "abtests"
    ALERTS = "alerts"
    ACCESS = "access"
    DEADLETTER = "deadletter"


_TYPES: dict[StreamName, tuple[str, ...]] = {
    StreamName.PREDICTIONS: ("prediction.made",),
    StreamName.FEEDBACK: ("feedback.received",),
    StreamName.DRIFT: ("drift.measured", "performance.measured"),
    StreamName.DECISIONS: ("retrain.requested", "decision.made"),
    StreamName.MODELS: ("model.trained", "model.compared", "model.promoted", "model.rolled_back"),
    StreamName.ABTESTS: ("abtest.started", "abtest.updated", "abtest.concluded"),
    StreamName.ALERTS: ("alert.raised", "alert.delivered"),
    StreamName.ACCESS: ("access.recorded",),
    StreamName.DEADLETTER: ("event.deadlettered",),
}

STREAM_OF_TYPE: dict[str, StreamName] = {t: s for s, types in _TYPES.items() for t in types}


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: StreamName
    event_types: tuple[str, ...]
    retention: StreamRetention


def stream_for(event_type: str) -> StreamName:
    """The stream an event type is published to."""
    try:
        return STREAM_OF_TYPE[event_type]
    except KeyError:
        raise KeyError(f"event type {event_type!r} is not in the stream catalogue") from None


def catalogue(settings: Settings) -> dict[StreamName, StreamSpec]:
    """Every stream with its event types and the retention configured for it."""
    return {
        name: StreamSpec(name, types, getattr(settings.retention, name.value))
        for name, types in _TYPES.items()
    }
