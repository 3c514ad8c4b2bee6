"""The A/B test evaluator: per-arm quality of live traffic, and when a test may stop.

The API routes traffic and stamps each prediction with its test and arm; this consumer
joins the labels that come back to those predictions, per arm (in shadow mode also the
challenger's label of the same message, as a pair), and looks at each running test after
every batch and every tick: an always-valid sequential test (`ml.abtest`), so looking this
often is safe. It publishes `abtest.updated` every `update_interval_s`, and
`abtest.concluded` once: significant, futile, or out of time.

State is shared by the members of the group and survives restarts: the join (either side
may come first), the counters of every test and its running evidence live in Redis, where
Lua scripts make each join and each count happen once, however often an event is
delivered. Which tests run is folded from the `abtests` stream, which every member reads
whole (it is small): at start, on every tick, and when a prediction names a new test.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from uuid import UUID

import orjson

from bus.bus import RedisBus
from consumers.base import EventConsumer
from ml.abtest import (
    AbTestCounts,
    Design,
    Evidence,
    labelled_fields,
    look,
    read,
    ready,
    served_fields,
    shadow_fields,
)
from schemas.abtests import AbTestConclusion, AbTestStart, AbTestUpdate, ArmStats
from schemas.catalogue import StreamName
from schemas.common import Label
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    AbTestUpdated,
    Event,
    FeedbackReceived,
    PredictionMade,
)
from schemas.traffic import Feedback, Prediction
from spamops.settings import Settings

__all__ = ["AbTestEvaluator", "RunningTest", "make_abtest_evaluator"]

log = logging.getLogger(__name__)

_Pair = tuple[UUID, str, list[str]]
"""A joined prediction: test id, prediction id, the counters it increments."""
_KEEP_AFTER_S = 30 * 24 * 3600  # counters and evidence of a concluded test, for inspection

# A prediction: remember it once (counting what it served), return a label already here.
_PREDICT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  for i = 3, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
end
return redis.call('GET', KEYS[2])
"""
# A label: return its prediction if already here, else leave the label for it.
_LABEL = """
local pred = redis.call('GET', KEYS[1])
if pred then return pred end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return false
"""
# A joined pair: count it once.
_COUNT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  for i = 2, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class RunningTest:
    spec: AbTestStart
    started_at: datetime
    design: Design

    @property
    def deadline(self) -> datetime:
        return self.started_at + timedelta(seconds=self.spec.max_duration_s)

    def arms(self, counts: AbTestCounts) -> tuple[ArmStats, ArmStats]:
        return (
            counts.champion.stats("champion", self.spec.champion.version),
            counts.challenger.stats("challenger", self.spec.challenger.version),
        )


class AbTestEvaluator(EventConsumer):
    group: ClassVar[str] = "abtest"
    streams = (StreamName.PREDICTIONS, StreamName.FEEDBACK)
    event_types = frozenset({"prediction.made", "feedback.received"})

    def __init__(
        self, settings: Settings, bus: RedisBus, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.bus = bus
        self.ab = settings.abtest
        self.source = settings.source("abtest")
        self.ttl = settings.monitoring.join_ttl_s
        self.tick_interval_s = self.ab.tick_interval_s
        self.update_ms = int(self.ab.update_interval_s * 1000)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.state = bus.keys.state("abtest:")
        self.concluded_key = f"{self.state}concluded"
        self.tests: dict[UUID, RunningTest] = {}
        self.concluded: set[UUID] = set()
        self.unknown: set[UUID] = set()
        """Test ids no sync found (trimmed or never started): ignored without re-reading."""
        self.position: str | None = None
        self.synced_at = -math.inf
        self._predict = bus.redis.register_script(_PREDICT)
        self._label = bus.redis.register_script(_LABEL)
        self._count = bus.redis.register_script(_COUNT)

    def _key(self, kind: str, ident: object) -> str:
        return f"{self.state}{kind}:{ident}"

    # -- which tests run ---------------------------------------------------------------

    async def start(self) -> None:
        await self.sync()
        if self.tests:  # concluded by a member whose conclusion is not in the stream yet
            ids = list(self.tests)
            done = await self.bus.redis.smismember(self.concluded_key, [str(i) for i in ids])
            for test_id, flag in zip(ids, done, strict=True):
                if int(flag):
                    self._forget(test_id)
        log.info("A/B evaluator: %d running tests", len(self.tests))

    async def sync(self) -> None:
        """Fold the `abtests` stream from where the last sync stopped."""
        cursor = f"({self.position}" if self.position else None
        self.synced_at = time.monotonic()
        while True:
            page = await self.bus.read_page(StreamName.ABTESTS, limit=500, cursor=cursor)
            for item in page.events:
                self.position = item.entry_id
                await self._fold(item.event)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def _fold(self, event: Event) -> None:
        if isinstance(event, AbTestStarted):
            test_id = event.payload.abtest_id
            if test_id not in self.concluded:
                self.unknown.discard(test_id)
                design = Design.of(
                    event.payload, power=self.ab.power, baseline_error=self.ab.baseline_error_rate
                )
                self.tests[test_id] = RunningTest(event.payload, event.occurred_at, design)
        elif isinstance(event, AbTestConcluded):
            test_id = event.payload.abtest_id
            self._forget(test_id)
            await self.bus.redis.sadd(self.concluded_key, str(test_id))

    def _forget(self, test_id: UUID) -> None:
        self.tests.pop(test_id, None)
        self.concluded.add(test_id)

    async def _know(self, test_ids: Iterable[UUID]) -> None:
        """Sync once if a test is named that this member has not heard of."""
        new = {t for t in test_ids if t not in self.tests and t not in self.concluded}
        new -= self.unknown
        if new:
            await self.sync()
            if len(self.unknown) > 10_000:  # bounded: a forgotten id costs one more sync
                self.unknown.clear()
            self.unknown |= {t for t in new if t not in self.tests and t not in self.concluded}

    # -- joining labels to predictions -------------------------------------------------

    async def handle(self, event: Event) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[Event]) -> None:
        predictions = [
            e.payload
            for e in events
            if isinstance(e, PredictionMade) and e.payload.abtest_id is not None
        ]
        await self._know(p.abtest_id for p in predictions if p.abtest_id is not None)
        ours = [(p, test) for p in predictions if (test := self._arm_of(p)) is not None]
        labels = [e.payload for e in events if isinstance(e, FeedbackReceived)]
        if labels and not self.tests and time.monotonic() - self.synced_at > 1.0:
            await self.sync()  # a test may have started since the last tick
        if not self.tests:
            labels = []  # no test runs, so no label can be one of ours
        pairs = await self._join(ours, labels)
        await self._know(test_id for test_id, _, _ in pairs)
        touched = await self._count_pairs([x for x in pairs if x[0] in self.tests])
        for test_id in touched:
            if test_id in self.tests:
                await self.evaluate(self.tests[test_id])

    async def _join(
        self, ours: list[tuple[Prediction, RunningTest]], labels: list[Feedback]
    ) -> list[_Pair]:
        """Store each side of the join (atomically against the other); return the pairs
        this batch completed, with the counters each one increments."""
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            for p, test in ours:
                counts = self._key("counts", test.spec.abtest_id)
                await self._predict(
                    keys=[*self._join_keys(p.prediction_id), counts],
                    args=[self._record(p, test), self.ttl, *self._served(p, test)],
                    client=pipe,
                )
            for f in labels:
                await self._label(
                    keys=self._join_keys(f.prediction_id), args=[f.label, self.ttl], client=pipe
                )
            replies = await pipe.execute()
        pairs: list[_Pair] = []
        for (p, test), label in zip(ours, replies[: len(ours)], strict=True):
            if label is not None:
                fields = labelled_fields(
                    _label(label), p.variant, p.label, self._shadow_label(p, test)
                )
                pairs.append((test.spec.abtest_id, str(p.prediction_id), fields))
        for f, raw in zip(labels, replies[len(ours) :], strict=True):
            if raw is not None:
                rec = orjson.loads(raw)
                shadow = None if rec["s"] is None else _label(rec["s"])
                fields = labelled_fields(f.label, rec["v"], _label(rec["l"]), shadow)
                pairs.append((UUID(rec["t"]), str(f.prediction_id), fields))
        return pairs

    def _record(self, p: Prediction, test: RunningTest) -> bytes:
        """What a label needs of its prediction: test, arm, both models' labels."""
        return orjson.dumps(
            {
                "t": str(test.spec.abtest_id),
                "v": p.variant,
                "l": p.label,
                "s": self._shadow_label(p, test),
            }
        )

    def _arm_of(self, p: Prediction) -> RunningTest | None:
        """The running test this prediction belongs to, if it was served as that test
        planned (a champion replaced mid-test serves a version the test is not about)."""
        test = self.tests.get(p.abtest_id) if p.abtest_id is not None else None
        if test is None:
            return None
        ref = test.spec.champion if p.variant == "champion" else test.spec.challenger
        if p.model.version != ref.version or p.model.name != ref.name:
            log.debug("A/B %s: prediction of v%s ignored", p.abtest_id, p.model.version)
            return None
        return test

    @staticmethod
    def _shadow_label(p: Prediction, test: RunningTest) -> Label | None:
        shadow = p.shadow
        if test.spec.mode != "shadow" or shadow is None:
            return None
        return shadow.label if shadow.model.version == test.spec.challenger.version else None

    def _served(self, p: Prediction, test: RunningTest) -> list[str]:
        fields = served_fields(p.variant, p.latency_ms)
        shadow = p.shadow
        if shadow is not None and self._shadow_label(p, test) is not None:
            fields += shadow_fields(p.label, shadow.label, shadow.latency_ms)
        return fields

    def _join_keys(self, prediction_id: UUID) -> list[str]:
        return [self._key("pred", prediction_id), self._key("label", prediction_id)]

    async def _count_pairs(self, pairs: list[_Pair]) -> set[UUID]:
        if not pairs:
            return set()
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            for test_id, pid, fields in pairs:
                await self._count(
                    keys=[self._key("joined", pid), self._key("counts", test_id)],
                    args=[self.ttl, *fields],
                    client=pipe,
                )
            done = await pipe.execute()
        return {t for (t, _, _), ok in zip(pairs, done, strict=True) if int(ok)}

    # -- looking at a test -------------------------------------------------------------

    async def tick(self) -> None:
        await self.sync()
        for test in list(self.tests.values()):
            await self.evaluate(test)

    async def evaluate(self, test: RunningTest) -> None:
        """Look at `test` now: conclude it if it is decided or out of time, else publish an
        update when one is due."""
        test_id = test.spec.abtest_id
        counts = AbTestCounts.from_hash(await self.bus.redis.hgetall(self._key("counts", test_id)))
        evidence = Evidence()
        if ready(test.design, counts):
            evidence = await self._merge(test_id, look(test.design, counts))
        reading = read(test.design, counts, evidence)
        arms = test.arms(counts)
        out_of_time = self.clock() >= test.deadline
        if reading.verdict != "continue" or out_of_time:
            reason = reading.verdict if reading.verdict != "continue" else "max_duration"
            await self._conclude(
                test,
                AbTestConclusion(
                    abtest_id=test_id,
                    winner=reading.winner,
                    reason=reason,
                    effect=reading.effect,
                    ci_low=reading.ci_low,
                    ci_high=reading.ci_high,
                    p_value=reading.p_value,
                    arms=arms,
                    planned_samples=reading.planned_samples,
                ),
            )
            return
        due = await self.bus.redis.set(
            self._key("updated", test_id), b"1", nx=True, px=self.update_ms
        )
        if due:
            await self.bus.publish(
                AbTestUpdated(
                    source=self.source,
                    payload=AbTestUpdate(
                        abtest_id=test_id,
                        arms=arms,
                        p_value=reading.p_value,
                        planned_samples=reading.planned_samples,
                        effect=reading.effect,
                        ci_low=reading.ci_low,
                        ci_high=reading.ci_high,
                    ),
                )
            )

    async def _merge(self, test_id: UUID, seen: Evidence) -> Evidence:
        """Tighten the shared running evidence with this look (ZADD LT/GT: atomic min/max,
        whichever member looks) and return it."""
        key = self._key("evidence", test_id)
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {"p": seen.p_value, "high": seen.high}, lt=True)
            pipe.zadd(key, {"low": seen.low}, gt=True)
            pipe.zrange(key, 0, -1, withscores=True)
            *_, stored = await pipe.execute()
        values = {name.decode(): float(score) for name, score in stored}
        merged = Evidence(
            values.get("p", 1.0), values.get("low", -math.inf), values.get("high", math.inf)
        )
        if merged.low > merged.high:  # disjoint intervals (see `Evidence.merge`)
            return Evidence(merged.p_value, seen.low, seen.high)
        return merged

    async def _conclude(self, test: RunningTest, conclusion: AbTestConclusion) -> None:
        """Publish the conclusion once: the first member to add the test to the concluded
        set owns it; a test stopped meanwhile (seen by a last sync) is left alone."""
        test_id = test.spec.abtest_id
        await self.sync()
        if test_id not in self.tests:
            return
        if not await self.bus.redis.sadd(self.concluded_key, str(test_id)):
            self._forget(test_id)
            return
        try:
            await self.bus.publish(AbTestConcluded(source=self.source, payload=conclusion))
        except Exception:
            await self.bus.redis.srem(self.concluded_key, str(test_id))
            raise
        self._forget(test_id)
        for kind in ("counts", "evidence"):
            await self.bus.redis.expire(self._key(kind, test_id), _KEEP_AFTER_S)
        log.info("A/B %s concluded: %s (%s)", test_id, conclusion.winner, conclusion.reason)


def _label(raw: bytes | str) -> Label:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return "spam" if text == "spam" else "ham"


def make_abtest_evaluator(settings: Settings, bus: RedisBus) -> AbTestEvaluator:
    return AbTestEvaluator(settings, bus)
