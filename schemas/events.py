"""Every event type of the catalogue, and the discriminated union that decodes them.

Each class fixes `type` to a literal and `payload` to its body. `Event` is the union of all
of them; `decode_event` turns wire JSON into the right class or raises `EventDecodeError`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError

from schemas.abtests import AbTestConclusion, AbTestStart, AbTestUpdate
from schemas.decisions import Decision, RetrainRequest
from schemas.envelope import Envelope
from schemas.errors import EventDecodeError
from schemas.models import ModelComparison, Promotion, Rollback, TrainedModel
from schemas.monitoring import DriftMeasurement, PerformanceMeasurement
from schemas.operations import Access, Alert, AlertDelivery, DeadLetter
from schemas.traffic import Feedback, Prediction

__all__ = [
    "EVENT_CLASSES",
    "AbTestConcluded",
    "AbTestStarted",
    "AbTestUpdated",
    "AccessRecorded",
    "AlertDelivered",
    "AlertRaised",
    "DecisionMade",
    "DriftMeasured",
    "Event",
    "EventDeadLettered",
    "FeedbackReceived",
    "ModelCompared",
    "ModelPromoted",
    "ModelRolledBack",
    "ModelTrained",
    "PerformanceMeasured",
    "PredictionMade",
    "RetrainRequested",
    "decode_event",
    "event_adapter",
]


class PredictionMade(Envelope):
    type: Literal["prediction.made"] = "prediction.made"
    payload: Prediction


class FeedbackReceived(Envelope):
    type: Literal["feedback.received"] = "feedback.received"
    payload: Feedback


class DriftMeasured(Envelope):
    type: Literal["drift.measured"] = "drift.measured"
    payload: DriftMeasurement


class PerformanceMeasured(Envelope):
    type: Literal["performance.measured"] = "performance.measured"
    payload: PerformanceMeasurement


class RetrainRequested(Envelope):
    type: Literal["retrain.requested"] = "retrain.requested"
    payload: RetrainRequest


class DecisionMade(Envelope):
    type: Literal["decision.made"] = "decision.made"
    payload: Decision


class ModelTrained(Envelope):
    type: Literal["model.trained"] = "model.trained"
    payload: TrainedModel


class ModelCompared(Envelope):
    type: Literal["model.compared"] = "model.compared"
    payload: ModelComparison


class ModelPromoted(Envelope):
    type: Literal["model.promoted"] = "model.promoted"
    payload: Promotion


class ModelRolledBack(Envelope):
    type: Literal["model.rolled_back"] = "model.rolled_back"
    payload: Rollback


class AbTestStarted(Envelope):
    type: Literal["abtest.started"] = "abtest.started"
    payload: AbTestStart


class AbTestUpdated(Envelope):
    type: Literal["abtest.updated"] = "abtest.updated"
    payload: AbTestUpdate


class AbTestConcluded(Envelope):
    type: Literal["abtest.concluded"] = "abtest.concluded"
    payload: AbTestConclusion


class AlertRaised(Envelope):
    type: Literal["alert.raised"] = "alert.raised"
    payload: Alert


class AlertDelivered(Envelope):
    type: Literal["alert.delivered"] = "alert.delivered"
    payload: AlertDelivery


class AccessRecorded(Envelope):
    type: Literal["access.recorded"] = "access.recorded"
    payload: Access


class EventDeadLettered(Envelope):
    type: Literal["event.deadlettered"] = "event.deadlettered"
    payload: DeadLetter


Event: TypeAlias = Annotated[
    PredictionMade
    | FeedbackReceived
    | DriftMeasured
    | PerformanceMeasured
    | RetrainRequested
    | DecisionMade
    | ModelTrained
    | ModelCompared
    | ModelPromoted
    | ModelRolledBack
    | AbTestStarted
    | AbTestUpdated
    | AbTestConcluded
    | AlertRaised
    | AlertDelivered
    | AccessRecorded
    | EventDeadLettered,
    Field(discriminator="type"),
]

EVENT_CLASSES: dict[str, type[Envelope]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        PredictionMade,
        FeedbackReceived,
        DriftMeasured,
        PerformanceMeasured,
        RetrainRequested,
        DecisionMade,
        ModelTrained,
        ModelCompared,
        ModelPromoted,
        ModelRolledBack,
        AbTestStarted,
        AbTestUpdated,
        AbTestConcluded,
        AlertRaised,
        AlertDelivered,
        AccessRecorded,
        EventDeadLettered,
    )
}


class _Adapter:
    """Lazily built TypeAdapter: building it costs ~50 ms, so not at import."""

    instance: ClassVar[TypeAdapter[Event] | None] = None


def event_adapter() -> TypeAdapter[Event]:
    if _Adapter.instance is None:
        _Adapter.instance = TypeAdapter(Event)
    return _Adapter.instance


def decode_event(data: bytes | str | dict[str, Any]) -> Event:
    """Decode wire JSON (or an already parsed dict) into its event class."""
    adapter = event_adapter()
    try:
        if isinstance(data, dict):
            return adapter.validate_python(data)
        return adapter.validate_json(data)
    except ValidationError as exc:
        raise EventDecodeError.from_validation(exc) from exc
    except (ValueError, ArithmeticError, RecursionError) as exc:  # a validator's own error
        raise EventDecodeError(f"invalid event: {type(exc).__name__}: {exc}") from exc
