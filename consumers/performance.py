"""The performance tracker: quality of live predictions, from the labels that come back.

Joins `feedback.received` to `prediction.made` by prediction id. Either may arrive first,
and members of the group each see a share of both streams, so the join state lives in Redis
(bounded by `join_ttl_s`). Joined pairs go into a window per model version; every closed
window becomes a `performance.measured` event.
"""

from __future__ import annotations

import math
from typing import ClassVar

import orjson

from bus.bus import RedisBus
from bus.idempotency import DoneMarks
from consumers.base import EventConsumer
from consumers.windows import ClosedWindow, RedisWindows
from schemas.catalogue import StreamName
from schemas.common import ClassificationMetrics, ModelRef
from schemas.envelope import new_id
from schemas.events import Event, FeedbackReceived, PerformanceMeasured, PredictionMade
from schemas.monitoring import PerformanceMeasurement
from spamops.settings import Settings

__all__ = ["PerformanceTracker", "make_performance_tracker", "metrics_from_pairs"]


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def metrics_from_pairs(pairs: list[tuple[bool, bool]]) -> ClassificationMetrics:
    """Metrics of (is spam, predicted spam) pairs. Spam is the positive class."""
    tp = sum(1 for y, p in pairs if y and p)
    fp = sum(1 for y, p in pairs if not y and p)
    fn = sum(1 for y, p in pairs if y and not p)
    tn = len(pairs) - tp - fp - fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    den = math.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return ClassificationMetrics(
        n=len(pairs),
        accuracy=_ratio(tp + tn, len(pairs)),
        spam_precision=precision,
        spam_recall=recall,
        spam_f1=_ratio(2 * precision * recall, precision + recall),
        ham_fpr=_ratio(fp, fp + tn),
        mcc=max(-1.0, min(1.0, _ratio(tp * tn - fp * fn, den))),
    )


class PerformanceTracker(EventConsumer):
    group: ClassVar[str] = "performance"
    streams = (StreamName.PREDICTIONS, StreamName.FEEDBACK)
    event_types = frozenset({"prediction.made", "feedback.received"})

    def __init__(self, settings: Settings, bus: RedisBus) -> None:
        self.bus = bus
        self.source = settings.source("performance")
        m = settings.monitoring
        self.ttl = m.join_ttl_s
        self.tick_interval_s = m.tick_interval_s
        self.state = bus.keys.state("performance:")
        self.windows = RedisWindows(
            bus.redis,
            f"{self.state}window:",
            size=m.performance_window,
            min_size=m.performance_min_window,
            max_age_s=m.window_max_age_s,
            marks=DoneMarks(bus.redis, bus.keys, self.group, settings.bus.dedupe_ttl_s),
            publisher=bus.publisher,
        )

    async def handle(self, event: Event) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[Event]) -> None:
        predictions = [e for e in events if isinstance(e, PredictionMade)]
        feedback = [e for e in events if isinstance(e, FeedbackReceived)]
        redis = self.bus.redis
        async with redis.pipeline(transaction=False) as pipe:
            for e in predictions:
                p = e.payload
                record = orjson.dumps({"l": p.label, "n": p.model.name, "v": p.model.version})
                pipe.set(f"{self.state}pred:{p.prediction_id}", record, ex=self.ttl)
                pipe.get(f"{self.state}label:{p.prediction_id}")
            for f in feedback:
                pipe.get(f"{self.state}pred:{f.payload.prediction_id}")
            replies = await pipe.execute()
        joined: dict[str, tuple[list[str], list[bytes]]] = {}
        waiting: list[FeedbackReceived] = []
        for i, e in enumerate(predictions):
            label = replies[2 * i + 1]
            if label is not None:
                p = e.payload
                _add(
                    joined,
                    e,
                    f"{p.model.name}:{p.model.version}",
                    [str(p.prediction_id), label.decode(), p.label],
                )
        for f, raw in zip(feedback, replies[2 * len(predictions) :], strict=True):
            if raw is None:
                waiting.append(f)
                continue
            pred = orjson.loads(raw)
            pair = [str(f.payload.prediction_id), f.payload.label, pred["l"]]
            _add(joined, f, f"{pred['n']}:{pred['v']}", pair)
        if waiting:
            async with redis.pipeline(transaction=False) as pipe:
                for f in waiting:
                    key = f"{self.state}label:{f.payload.prediction_id}"
                    pipe.set(key, f.payload.label, ex=self.ttl)
                await pipe.execute()
        for key, (ids, items) in joined.items():
            await self.windows.add(key, items, event_ids=ids, measure=self._measure)

    async def tick(self) -> None:
        await self.windows.close_stale(measure=self._measure)

    async def _measure(self, window: ClosedWindow) -> PerformanceMeasured:
        """The window's `performance.measured`, published by `windows` as it removes it."""
        name, _, version = window.key.rpartition(":")
        seen: dict[str, tuple[bool, bool]] = {}
        for item in window.items:  # a redelivered event may have pushed its pair twice
            pid, truth, predicted = orjson.loads(item)
            seen[pid] = (truth == "spam", predicted == "spam")
        return PerformanceMeasured(
            source=self.source,
            payload=PerformanceMeasurement(
                window_id=new_id(),
                model=ModelRef(name=name, version=int(version)),
                started_at=window.started_at,
                ended_at=window.ended_at,
                metrics=metrics_from_pairs(list(seen.values())),
            ),
        )


def _add(
    joined: dict[str, tuple[list[str], list[bytes]]], cause: Event, key: str, pair: list[str]
) -> None:
    """Queue the (prediction id, truth, predicted) pair that event `cause` completed."""
    ids, items = joined.setdefault(key, ([], []))
    ids.append(str(cause.id))
    items.append(orjson.dumps(pair))


def make_performance_tracker(settings: Settings, bus: RedisBus) -> PerformanceTracker:
    return PerformanceTracker(settings, bus)
