"""A linked history touching every stream and every event type, for the audit-log tests.

One prediction (`Story.prediction`) is followed through its caller, its feedback, the drift
and performance windows covering it, a decision, a retraining, a comparison and a
promotion; around it is noise that explain must leave out (another request, a window of
another version, an unrelated A/B test) and a later rollback it finds by time.
The tests at the bottom keep the story honest: every type, every stream.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from schemas.catalogue import STREAM_OF_TYPE, StreamName
from schemas.common import ModelRef
from schemas.decisions import Decision, RetrainRequest
from schemas.envelope import Envelope
from schemas.events import (
    EVENT_CLASSES,
    AccessRecorded,
    AlertDelivered,
    AlertRaised,
    DecisionMade,
    EventDeadLettered,
    PredictionMade,
    RetrainRequested,
)
from schemas.operations import Access, Alert, AlertDelivery, DeadLetter
from schemas.traffic import MessageShape, Prediction
from tests.store import scenario

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def predicted(
    text: str, *, at: datetime, request_id: str | None, version: int = 1
) -> PredictionMade:
    return PredictionMade(
        source="api@host-1",
        occurred_at=at,
        payload=Prediction(
            prediction_id=uuid.uuid4(),
            request_id=request_id,
            client_id="gateway",
            text=text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            token_hashes=(11, 12),
            shape=MessageShape(length=len(text), tokens=2, digits=0, urls=0, uppercase_ratio=0),
            label="spam",
            spam_probability=0.93,
            model=ModelRef(name=scenario.NAME, version=version, alias="champion"),
            latency_ms=0.6,
        ),
    )


def accessed(at: datetime, request_id: str | None, route: str = "/predict") -> AccessRecorded:
    return AccessRecorded(
        source="api@host-1",
        occurred_at=at,
        payload=Access(
            principal="sms-gateway",
            role="predict",
            method="POST",
            route=route,
            status=200,
            latency_ms=1.4,
            client="10.0.0.7",
            request_id=request_id,
        ),
    )


def dead_letter(of: Envelope, at: datetime) -> EventDeadLettered:
    return EventDeadLettered(
        source="bus@host-2",
        occurred_at=at,
        payload=DeadLetter(
            stream="spamops:predictions",
            entry_id="1772442000000-0",
            group="projector",
            consumer="projector-1",
            deliveries=5,
            error="StoreError: rejected",
            fields={"id": str(of.id), "type": of.type, "event": of.to_json().decode()},
        ),
    )


@dataclass
class Story:
    prediction: PredictionMade
    events: list[Envelope] = field(default_factory=list)
    caller: Envelope | None = None
    feedback: list[Envelope] = field(default_factory=list)
    windows: list[Envelope] = field(default_factory=list)
    followed: list[Envelope] = field(default_factory=list)
    later: list[Envelope] = field(default_factory=list)


def story() -> Story:
    """The history in the order it happened (the order to publish or append it in)."""
    pred = predicted("WIN a prize, café ☕ now", at=T0, request_id="req-42")
    tale = Story(prediction=pred)
    tale.caller = accessed(T0 + timedelta(milliseconds=2), "req-42")
    other = predicted("lunch?", at=T0 + timedelta(seconds=1), request_id="req-43")
    tale.feedback = [
        scenario.feedback(pred, "ham", at=T0 + 5 * MINUTE),
        scenario.feedback(pred, "spam", at=T0 + 6 * MINUTE),
    ]
    drift = scenario.drift(T0 + 10 * MINUTE, 0.3)  # window T0-0:00 .. T0+10, version 1
    perf = scenario.performance(T0 + 12 * MINUTE, 1, 0.88)
    tale.windows = [drift, perf]
    noise_windows = [scenario.drift(T0 + 10 * MINUTE, 0.02, version=2)]
    noise_windows.append(scenario.drift(T0 + 40 * MINUTE, 0.01))  # does not cover T0
    decision = DecisionMade(
        source="agent@host-3",
        occurred_at=T0 + 13 * MINUTE,
        correlation=drift.id,
        payload=Decision(
            policy="rule",
            input_event_ids=(drift.id, perf.id),
            action="retrain",
            confidence=0.8,
            rationale="vocabulary drift above threshold",
        ),
    )
    request = RetrainRequested(
        source="agent@host-3",
        occurred_at=T0 + 13 * MINUTE,
        correlation=decision.id,
        payload=RetrainRequest(reason="drift", requested_by="agent", trigger_event_ids=(drift.id,)),
    )
    trained = scenario.trained(T0 + 20 * MINUTE, 2, request)
    compared = scenario.compared(T0 + 21 * MINUTE, 1, 2, "promote", request)
    promoted = scenario.promoted(T0 + 22 * MINUTE, 2, 1, compared)
    raised = AlertRaised(
        source="alerter@host-4",
        occurred_at=T0 + 14 * MINUTE,
        payload=Alert(
            severity="warning", title="drift", dedupe_key="drift:v1", source_event_id=drift.id
        ),
    )
    delivered = AlertDelivered(
        source="alerter@host-4",
        occurred_at=T0 + 15 * MINUTE,
        payload=AlertDelivery(
            alert_id=raised.id, channel="slack", ok=True, attempts=1, latency_ms=9
        ),
    )
    tale.followed = [decision, request, raised, delivered, trained, compared, promoted]
    unrelated_abtest = scenario.abtest(T0 + 30 * MINUTE)
    rollback = scenario.rolled_back(T0 + 60 * MINUTE, 2, 1)
    tale.later = [rollback]
    tale.events = [
        pred,
        tale.caller,
        other,
        accessed(T0 + timedelta(seconds=1, milliseconds=3), "req-43"),
        *tale.feedback,
        drift,
        *noise_windows,
        perf,
        decision,
        request,
        raised,
        delivered,
        trained,
        compared,
        promoted,
        *unrelated_abtest,
        rollback,
        dead_letter(other, T0 + 70 * MINUTE),
    ]
    return tale


def test_the_story_touches_every_event_type_and_stream() -> None:
    events = story().events
    assert {e.type for e in events} == set(EVENT_CLASSES)
    assert {STREAM_OF_TYPE[e.type] for e in events} == set(StreamName)
    assert len({e.id for e in events}) == len(events)


def test_its_parts_are_in_it() -> None:
    tale = story()
    ids = {e.id for e in tale.events}
    parts = [tale.prediction, tale.caller, *tale.feedback, *tale.windows, *tale.followed]
    assert all(p is not None and p.id in ids for p in (*parts, *tale.later))
