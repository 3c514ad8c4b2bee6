"""Scoring a message and recording it: the whole request path of `/predict`.

The request path does three things: score with the serving model's fast path, hand a
`prediction.made` event to the buffered publisher (no I/O), and answer. Everything else
(drift, performance, audit) happens in consumers, later.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.abtests import AbTestRouter, ActiveTest
from api.holder import ModelHolder, Serving
from api.metrics import ApiMetrics
from bus.buffered import BufferedPublisher
from ml.features import message_features
from ml.protocols import ServingModel
from schemas.common import Variant
from schemas.envelope import new_id, utcnow
from schemas.events import PredictionMade
from schemas.traffic import MessageShape, Prediction, ShadowScore
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
        self,
        settings: Settings,
        holder: ModelHolder,
        publisher: BufferedPublisher,
        router: AbTestRouter | None = None,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.holder = holder
        self.publisher = publisher
        self.router = router or AbTestRouter()
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
        champion = self.serving().model
        test = self.router.current
        variant: Variant = test.route(client_id, request_id) if test else "champion"
        model = test.challenger if test and variant == "challenger" else champion
        a = model.analyse(message)
        scored = self._record(
            message,
            client_id,
            request_id,
            model,
            a.probability,
            a.token_hashes,
            a.shape,
            variant,
            test.spec.abtest_id if test else None,
            started,
        )
        if test is not None and test.spec.mode == "shadow":
            # The challenger scores after the response is sent; its score rides in the event.
            asyncio.get_running_loop().call_soon(self._shadow, [scored.event], [message], test)
        else:
            self.publisher.enqueue(scored.event)
        return scored.response

    def predict_batch(
        self, items: Sequence[tuple[str, str | None, str | None]], started: float
    ) -> list[dict[str, Any]]:
        champion = self.serving().model
        test = self.router.current
        variants: list[Variant] = [test.route(c, r) if test else "champion" for _, c, r in items]
        probabilities = [0.0] * len(items)
        for variant, model in (
            ("champion", champion),
            ("challenger", test.challenger if test else None),
        ):
            chosen = [i for i, v in enumerate(variants) if v == variant]
            if chosen and model is not None:
                scores = model.score_batch([items[i][0] for i in chosen])
                for i, p in zip(chosen, scores, strict=True):
                    probabilities[i] = float(p)
        out, events = [], []
        for (text, client_id, request_id), variant, p in zip(
            items, variants, probabilities, strict=True
        ):
            model = test.challenger if test and variant == "challenger" else champion
            hashes, shape = message_features(text)
            scored = self._record(
                text,
                client_id,
                request_id,
                model,
                p,
                hashes,
                shape,
                variant,
                test.spec.abtest_id if test else None,
                started,
            )
            events.append(scored.event)
            out.append(scored.response)
        if test is not None and test.spec.mode == "shadow":
            texts = [text for text, _, _ in items]
            asyncio.get_running_loop().call_soon(self._shadow, events, texts, test)
        else:
            for event in events:
                self.publisher.enqueue(event)
        return out

    def _shadow(self, events: list[PredictionMade], texts: list[str], test: ActiveTest) -> None:
        challenger = test.challenger
        started = time.perf_counter()
        scores = challenger.score_batch(texts)
        latency_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
        for event, p in zip(events, scores, strict=True):
            shadow = ShadowScore.model_construct(
                model=challenger.ref,
                spam_probability=float(p),
                label=challenger.label(float(p)),
                latency_ms=latency_ms,
            )
            payload = event.payload.model_copy(update={"shadow": shadow})
            self.publisher.enqueue(event.model_copy(update={"payload": payload}))

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
        abtest_id: UUID | None,
        started: float,
    ) -> Scored:
        label = model.label(probability)
        if self.metrics is not None:
            self.metrics.predictions.labels(label, str(model.ref.version), variant).inc()
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
            abtest_id=abtest_id,
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
