"""The retrainer: on `retrain.requested`, train a challenger, compare it fairly with the
champion, and promote it only when the comparison supports it.

One retraining at a time across every replica (a Redis lock with a TTL), idempotent on the
request id: progress is checkpointed per request in Redis (trained → compared → promoted),
so a crash resumes where it stopped instead of training again or promoting twice.

Data: the base corpus plus every labelled production message (feedback joined to its
text, deduplicated) except a fixed fifth of them, chosen by text hash, that no model ever
trains on. Evaluation: the corpus's held-out split plus the most recent of that reserved
fifth. See `ml.compare` for the decision rule.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from bus.bus import RedisBus
from bus.replies import text
from consumers.base import EventConsumer
from ml.compare import EvalSet, Verdict, compare_models
from schemas.catalogue import StreamName
from schemas.common import Label
from schemas.envelope import new_id
from schemas.events import (
    AlertRaised,
    Event,
    ModelCompared,
    ModelPromoted,
    ModelTrained,
    RetrainRequested,
)
from schemas.models import Promotion
from schemas.operations import Alert
from spamops.settings import Settings

__all__ = ["Retrainer", "is_reserved_for_evaluation", "make_retrainer"]

log = logging.getLogger(__name__)


def is_reserved_for_evaluation(text: str) -> bool:
    """A fixed fifth of labelled messages, by text hash: evaluated on, never trained on."""
    from ml.split import text_key

    return int(text_key(text)[:8], 16) % 5 == 0


@dataclass(frozen=True)
class _Data:
    train: list[tuple[str, Label]]
    recent: EvalSet


class Retrainer(EventConsumer):
    group: ClassVar[str] = "retrainer"
    streams = (StreamName.DECISIONS,)
    event_types = frozenset({"retrain.requested"})

    def __init__(self, settings: Settings, bus: RedisBus) -> None:
        self.settings = settings
        self.bus = bus
        self.source = settings.source("retrainer")
        self.completed = 0
        self._runs: Any = None
        self._duration: Any = None
        self._engine: Any = None
        self._registry: Any = None

    async def start(self) -> None:
        from ml.registry import ModelRegistry
        from store.engine import create_store_engine

        if self.metrics is not None:
            from prometheus_client import Counter, Histogram

            self._runs = Counter(
                "spamops_retrainings",
                "Retraining runs by outcome.",
                ["outcome"],
                registry=self.metrics,
            )
            self._duration = Histogram(
                "spamops_retraining_duration_seconds",
                "Time of one retraining run.",
                registry=self.metrics,
                buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1800),
            )

        self._engine = create_store_engine(self.settings)
        self._registry = ModelRegistry(self.settings)

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _progress_key(self, request_id: object) -> str:
        return self.bus.keys.state(f"retrain:{request_id}")

    async def handle(self, event: Event) -> None:
        if not isinstance(event, RetrainRequested):
            return
        key = self._progress_key(event.id)
        ttl = self.settings.retrain.lock_ttl_s
        lock = self.bus.redis.lock(
            self.bus.keys.lock("retrainer"), timeout=ttl, blocking_timeout=ttl
        )
        async with lock:  # one retraining at a time, across replicas
            stored = await self.bus.redis.hgetall(key)
            progress: dict[Any, str] = {text(k): text(v) for k, v in stored.items()}
            if progress.get("done"):
                return
            started = time.perf_counter()
            try:
                outcome = await self._run(event, key, progress)
            except Exception as exc:
                self._count("failed", started)
                await self._failed(event, exc)
                raise
        self._count(outcome, started)
        self.completed += 1

    def _count(self, outcome: str, started: float) -> None:
        if self._runs is not None:
            self._runs.labels(outcome).inc()
            self._duration.observe(time.perf_counter() - started)

    async def _run(self, event: RetrainRequested, key: str, progress: dict[Any, str]) -> str:
        """Train, compare, promote (resuming from `progress`); the outcome's name."""
        redis = self.bus.redis
        if "version" not in progress:
            data = await asyncio.to_thread(self._data)
            result = await asyncio.to_thread(self._train, data.train)
            await self.bus.publish(
                ModelTrained(
                    source=self.source, correlation=event.id, payload=result.payload(event.id)
                )
            )
            progress |= {"version": str(result.model.version), "alias": result.model.alias or ""}
            await redis.hset(key, mapping=progress)
            log.info(
                "request %s: trained v%s (%s)", event.id, result.model.version, result.model.alias
            )
        version = int(progress["version"])
        if progress.get("alias") == "champion":  # the first model: nothing to compare with
            await redis.hset(key, "done", "1")
            return "first"
        if "comparison" not in progress:
            verdict = await asyncio.to_thread(self._compare, version, event)
            compared = ModelCompared(
                source=self.source, correlation=event.id, payload=verdict.comparison
            )
            await self.bus.publish(compared)
            progress |= {"comparison": str(compared.id), "decision": verdict.comparison.decision}
            await redis.hset(key, mapping=progress)
            log.info(
                "request %s: %s v%s (%s)",
                event.id,
                verdict.comparison.decision,
                version,
                "; ".join(verdict.comparison.reasons),
            )
        if progress["decision"] == "promote" and "promoted" not in progress:
            previous = await asyncio.to_thread(self._registry.promote, version)
            await self.bus.publish(
                ModelPromoted(
                    source=self.source,
                    correlation=event.id,
                    payload=Promotion(
                        model_name=self.settings.model.registered_name,
                        version=version,
                        previous_version=previous if previous != version else None,
                        reason=f"challenger v{version} beat the champion (request {event.id})",
                        actor=self.source,
                        comparison_event_id=UUID(progress["comparison"]),
                    ),
                )
            )
            await redis.hset(key, "promoted", "1")
        await redis.hset(key, "done", "1")
        await redis.expire(key, 30 * 24 * 3600)
        return "promoted" if progress["decision"] == "promote" else "kept"

    def _data(self) -> _Data:
        from store.engine import read_session
        from store.queries import labelled_messages

        with read_session(self._engine) as session:
            labelled = labelled_messages(session)
        train = [(m.text, m.label) for m in labelled if not is_reserved_for_evaluation(m.text)]
        reserved = [m for m in labelled if is_reserved_for_evaluation(m.text)]
        recent = reserved[-self.settings.retrain.recent_window :]
        return _Data(
            train=train,
            recent=EvalSet("recent", [m.text for m in recent], [m.label for m in recent]),
        )

    def _train(self, extra: list[tuple[str, Label]]) -> Any:
        from ml.training import train_and_register

        return train_and_register(self.settings, extra=extra)

    def _compare(self, version: int, event: RetrainRequested) -> Verdict:
        registry = self._registry
        champion = registry.load("champion")
        challenger = registry.load_version(version)
        heldout = _heldout(
            str(self.settings.dataset_path), self.settings.model.seed, self.settings.model.test_size
        )
        return compare_models(
            champion,
            challenger,
            [heldout, self._data().recent],
            self.settings.retrain,
            champion_ref=champion.ref,
            challenger_ref=challenger.ref,
            retrain_request_id=event.id,
        )

    async def _failed(self, event: RetrainRequested, exc: Exception) -> None:
        log.exception("retraining for request %s failed", event.id)
        alert = AlertRaised(
            source=self.source,
            correlation=event.id,
            payload=Alert(
                severity="critical",
                title="retraining failed",
                body=(
                    f"Retraining for request {event.id} ({event.payload.reason}) failed: "
                    f"{type(exc).__name__}: {exc}. It is retried; after "
                    f"{self.settings.bus.max_deliveries} attempts it goes to the dead-letter "
                    "stream. See docs/runbooks.md, 'Retraining fails'."
                ),
                dedupe_key=f"retrain-failed:{event.id}",
                source_event_id=event.id,
                labels={"retrain_request_id": str(event.id)},
            ),
        )
        try:
            await self.bus.publish(alert)
        except Exception:
            log.exception("could not publish the failure alert %s", new_id())


@functools.cache
def _heldout(dataset: str, seed: int, test_size: float) -> EvalSet:
    from pathlib import Path

    from ml.data import load_corpus
    from ml.split import split_groups

    corpus = load_corpus(Path(dataset))
    split = split_groups(corpus.texts, corpus.y, test_size=test_size, seed=seed)
    return EvalSet(
        "heldout", [corpus.texts[i] for i in split.test], [corpus.labels[i] for i in split.test]
    )


def make_retrainer(settings: Settings, bus: RedisBus) -> Retrainer:
    return Retrainer(settings, bus)
