"""Scoring a message and recording it: the whole request path of `/predict`.

The request path does three things: score with the serving model's fast path, hand a
`prediction.made` event to the buffered publisher (no I/O), and answer. Everything else
(drift, performance, audit) happens in consumers, later.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from api.holder import ModelHolder, Serving
from bus.buffered import BufferedPublisher
from ml.features import message_features
from ml.protocols import ServingModel
from schemas.common import Variant
from schemas.envelope import new_id, utcnow
from schemas.events import PredictionMade
from schemas.traffic import MessageShape, Prediction
from spamops.settings import Settings

__all__ = ["NoModelError", "Predictor", "Scored"]


class NoModelError(RuntimeError):
    """No model is loaded. Fix: train and register one (`spamops train`), or check MLflow."""


@dataclass(frozen=True, slots=True)
class Scored:
    response: dict[str, Any]
    event: PredictionMade


class Predictor:
    def __init__(
        self, settings: Settings, holder: ModelHolder, publisher: BufferedPublisher
    ) -> None:
        self.settings = settings
        self.holder = holder
        self.publisher = publisher
        self.source = settings.source("api")
        self.keep_text = settings.event_text == "full"

    def serving(self) -> Serving:
        serving = self.holder.current
        if serving is None:
            raise NoModelError(
                "no model is loaded: register one with `spamops train`, then wait for the "
                "hot reload or restart the API"
            )
        return serving

    def predict(
        self, message: str, client_id: str | None, request_id: str | None, started: float
    ) -> dict[str, Any]:
        model = self.serving().model
        a = model.analyse(message)
        scored = self._record(
            message,
            client_id,
            request_id,
            model,
            a.probability,
            a.token_hashes,
            a.shape,
            "champion",
            started,
        )
        self.publisher.enqueue(scored.event)
        return scored.response

    def predict_batch(
        self, items: list[tuple[str, str | None, str | None]], started: float
    ) -> list[dict[str, Any]]:
        model = self.serving().model
        probabilities = model.score_batch([text for text, _, _ in items])
        out = []
        for (text, client_id, request_id), p in zip(items, probabilities, strict=True):
            hashes, shape = message_features(text)
            scored = self._record(
                text, client_id, request_id, model, float(p), hashes, shape, "champion", started
            )
            self.publisher.enqueue(scored.event)
            out.append(scored.response)
        return out

    def _record(
        self,
        text: str,
        client_id: str | None,
        request_id: str | None,
        model: ServingModel,
        probability: float,
        hashes: tuple[int, ...],
        shape: MessageShape,
        variant: Variant,
        started: float,
    ) -> Scored:
        label = model.label(probability)
        prediction_id = new_id()
        latency_ms = (time.perf_counter() - started) * 1000
        # Built with model_construct: every field comes from this code, typed, so pydantic's
        # validation (a tenth of the request's CPU) would only re-check what cannot be wrong.
        payload = Prediction.model_construct(
            prediction_id=prediction_id,
            request_id=request_id,
            client_id=client_id,
            text=text if self.keep_text else None,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            token_hashes=hashes,
            shape=shape,
            label=label,
            spam_probability=probability,
            model=model.ref,
            variant=variant,
            abtest_id=None,
            shadow=None,
            latency_ms=latency_ms,
        )
        event = PredictionMade.model_construct(
            id=prediction_id,
            type="prediction.made",
            schema_version=1,
            occurred_at=utcnow(),
            source=self.source,
            correlation=prediction_id,
            payload=payload,
        )
        response = {
            "prediction_id": str(prediction_id),
            "label": label,
            "spam_probability": probability,
            "model": model.ref.model_dump(),
            "variant": variant,
            "latency_ms": round(latency_ms, 4),
        }
        return Scored(response, event)
