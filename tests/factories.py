"""Small builders of valid events for tests."""

from __future__ import annotations

import hashlib
import uuid

from schemas.common import ModelRef
from schemas.decisions import RetrainRequest
from schemas.events import AlertRaised, FeedbackReceived, PredictionMade, RetrainRequested
from schemas.operations import Alert
from schemas.traffic import Feedback, MessageShape, Prediction

MODEL = ModelRef(name="spam-classifier", version=1, alias="champion")


def prediction(text: str = "win a prize now", *, seq: int = 0, **kw: object) -> PredictionMade:
    payload = Prediction(
        prediction_id=uuid.uuid4(),
        request_id=f"req-{seq}",
        client_id=kw.pop("client_id", "client-1"),  # type: ignore[arg-type]
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        token_hashes=(1, 2, 3),
        shape=MessageShape(length=len(text), tokens=3, digits=0, urls=0, uppercase_ratio=0.0),
        label="spam",
        spam_probability=0.9,
        model=MODEL,
        latency_ms=0.5,
    )
    return PredictionMade(payload=payload, source="test@host", **kw)  # type: ignore[arg-type]


def feedback(prediction_id: uuid.UUID | None = None, label: str = "spam") -> FeedbackReceived:
    return FeedbackReceived(
        source="test@host",
        payload=Feedback(prediction_id=prediction_id or uuid.uuid4(), label=label),  # type: ignore[arg-type]
    )


def retrain(reason: str = "manual") -> RetrainRequested:
    return RetrainRequested(
        source="test@host",
        payload=RetrainRequest(reason=reason, requested_by="test"),  # type: ignore[arg-type]
    )


def alert(key: str = "k") -> AlertRaised:
    return AlertRaised(
        source="test@host", payload=Alert(severity="warning", title="t", dedupe_key=key)
    )
