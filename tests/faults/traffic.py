"""What a fault test sends: realistic predictions and labels published at a steady pace, or
requests to the real API.

Predictions carry the same features the API computes (token hashes and shape of a real
corpus message), so the drift monitor measures them as it would live traffic.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx

from ml.data import load_corpus
from ml.features import message_features
from schemas.common import Label, ModelRef
from schemas.envelope import Envelope
from schemas.events import FeedbackReceived, PredictionMade
from schemas.traffic import Feedback, Prediction
from tests.faults.stack import Api, Stack

__all__ = ["ApiLoad", "Pacer", "corpus_sample", "feedback_for", "predict_all", "predictions"]

NAME = "spam-classifier"


def corpus_sample(dataset: Path, n: int, seed: int = 7) -> list[tuple[str, Label]]:
    corpus = load_corpus(dataset)
    rows = list(zip(corpus.texts, corpus.labels, strict=True))
    rng = random.Random(seed)
    return [rows[rng.randrange(len(rows))] for _ in range(n)]


def predictions(
    messages: Sequence[tuple[str, Label]],
    *,
    version: int = 1,
    abtest_id: uuid.UUID | None = None,
    challenger: int | None = None,
    seed: int = 3,
) -> list[PredictionMade]:
    """One `prediction.made` per message; with an A/B test, every other one is the
    challenger's (`challenger` version) and all carry the test's id."""
    rng = random.Random(seed)
    out: list[PredictionMade] = []
    for i, (text, label) in enumerate(messages):
        hashes, shape = message_features(text)
        arm = abtest_id is not None and challenger is not None and i % 2 == 1
        model = ModelRef(
            name=NAME,
            version=challenger if arm and challenger is not None else version,
            alias="challenger" if arm else "champion",
        )
        p = 0.9 if label == "spam" else 0.05
        out.append(
            PredictionMade(
                source="api@faults",
                payload=Prediction(
                    prediction_id=uuid.uuid4(),
                    request_id=f"r-{i}",
                    client_id=f"c-{i % 17}",
                    text=text,
                    text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    token_hashes=hashes,
                    shape=shape,
                    label=label if rng.random() > 0.05 else ("ham" if label == "spam" else "spam"),
                    spam_probability=p,
                    model=model,
                    variant="challenger" if arm else "champion",
                    abtest_id=abtest_id,
                    latency_ms=0.4,
                ),
            )
        )
    return out


def feedback_for(
    made: Sequence[PredictionMade], truth: Sequence[Label], share: float, seed: int = 5
) -> list[FeedbackReceived]:
    """True labels for a share of the predictions (the corpus label of each message)."""
    rng = random.Random(seed)
    return [
        FeedbackReceived(
            source="api@faults",
            correlation=m.id,
            payload=Feedback(prediction_id=m.payload.prediction_id, label=label),
        )
        for m, label in zip(made, truth, strict=True)
        if rng.random() < share
    ]


class Pacer:
    """Publishes events in a background thread at about `rate_per_s`, in small chunks."""

    def __init__(self, stack: Stack, events: Sequence[Envelope], rate_per_s: float) -> None:
        self.stack = stack
        self.events = list(events)
        self.rate = rate_per_s
        self.sent = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pacer", daemon=True)

    def start(self) -> Pacer:
        self._thread.start()
        return self

    def _run(self) -> None:
        chunk = max(1, int(self.rate / 50))
        started = time.monotonic()
        try:
            while self.sent < len(self.events):
                batch = self.events[self.sent : self.sent + chunk]
                self.stack.publish(batch)
                self.sent += len(batch)
                ahead = started + self.sent / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        except BaseException as exc:  # reported by join()
            self.error = exc

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout_s: float = 60) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the publisher did not finish"
        if self.error is not None:
            raise self.error


def predict_all(api: Api, messages: Sequence[str]) -> tuple[list[str], Counter[int]]:
    """POST /predict each message in turn; the prediction ids of the 200s, and every status."""
    ids: list[str] = []
    statuses: Counter[int] = Counter()
    with api.client() as client:
        for text in messages:
            r = client.post("/predict", json={"message": text})
            statuses[r.status_code] += 1
            if r.status_code == 200:
                ids.append(str(r.json()["prediction_id"]))
    return ids, statuses


class ApiLoad:
    """POSTs /predict from a background thread at about `rate_per_s`, recording every answer
    (a connection error counts as status 0)."""

    def __init__(self, api: Api, messages: Sequence[str], rate_per_s: float) -> None:
        self.api = api
        self.messages = list(messages)
        self.rate = rate_per_s
        self.ids: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.latencies_ms: list[float] = []
        self._thread = threading.Thread(target=self._run, name="api-load", daemon=True)

    def start(self) -> ApiLoad:
        self._thread.start()
        return self

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def _run(self) -> None:
        started = time.monotonic()
        with self.api.client() as client:
            for i, text in enumerate(self.messages):
                t = time.perf_counter()
                try:
                    r = client.post("/predict", json={"message": text})
                except httpx.HTTPError:
                    self.statuses[0] += 1
                    continue
                self.latencies_ms.append((time.perf_counter() - t) * 1000)
                self.statuses[r.status_code] += 1
                if r.status_code == 200:
                    self.ids.append(str(r.json()["prediction_id"]))
                ahead = started + (i + 1) / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def join(self, timeout_s: float = 120) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the load did not finish"
