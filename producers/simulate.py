"""The traffic simulator: replays labelled messages through the API over HTTP.

Messages go to `POST /predict` at a fixed rate; for a share of them the true label follows
on `POST /feedback` after a delay, as an operator's corrections would. A drift scenario
(see `producers.scenarios`) can start at a given window. The report counts what was sent,
what failed, and how much of the drifted spam the serving model caught, per model version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from producers.scenarios import SCENARIOS, LabelledMessage, scenario_windows

__all__ = ["SimulationPlan", "SimulationReport", "base_pool", "catch_rate", "simulate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationPlan:
    url: str
    messages: int
    rate_per_s: float = 50.0
    scenario: str | None = None
    onset_window: int = 2
    window_size: int = 100
    feedback_share: float = 0.3
    feedback_delay_s: float = 2.0
    concurrency: int = 16
    seed: int = 7
    token: str | None = None


@dataclass
class SimulationReport:
    sent: int = 0
    errors: int = 0
    feedback_sent: int = 0
    feedback_errors: int = 0
    drifted_spam: Counter[int] = field(default_factory=Counter)
    drifted_caught: Counter[int] = field(default_factory=Counter)
    """Drifted spam seen / labelled spam, by model version that served it."""

    def catch_rate(self, version: int) -> float | None:
        seen = self.drifted_spam[version]
        return self.drifted_caught[version] / seen if seen else None


def base_pool(dataset: Path, seed: int = 42, test_size: float = 0.2) -> list[LabelledMessage]:
    """The held-out side of the corpus: clean traffic no model was trained on."""
    from ml.data import load_corpus
    from ml.split import split_groups

    corpus = load_corpus(dataset)
    split = split_groups(corpus.texts, corpus.y, test_size=test_size, seed=seed)
    return [LabelledMessage(corpus.texts[i], corpus.labels[i]) for i in split.test]


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def simulate(plan: SimulationPlan, base: Sequence[LabelledMessage]) -> SimulationReport:
    scenario = SCENARIOS[plan.scenario] if plan.scenario else None
    windows = -(-plan.messages // plan.window_size)
    traffic = [
        m
        for window in scenario_windows(
            base,
            scenario,
            windows=windows,
            window_size=plan.window_size,
            onset=plan.onset_window,
            seed=plan.seed,
        )
        for m in window
    ][: plan.messages]
    report = SimulationReport()
    rng = random.Random(plan.seed)
    limit = asyncio.Semaphore(plan.concurrency)
    feedback_tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(
        base_url=plan.url, headers=_headers(plan.token), timeout=10.0
    ) as client:

        async def feedback(prediction_id: str, label: str) -> None:
            await asyncio.sleep(plan.feedback_delay_s)
            try:
                r = await client.post(
                    "/feedback", json={"prediction_id": prediction_id, "label": label}
                )
                r.raise_for_status()
                report.feedback_sent += 1
            except httpx.HTTPError as exc:
                report.feedback_errors += 1
                log.warning("feedback failed: %s", exc)

        async def one(i: int, message: LabelledMessage) -> None:
            async with limit:
                try:
                    r = await client.post(
                        "/predict",
                        json={
                            "message": message.text,
                            "client_id": f"sim-{i % 97}",
                            "request_id": f"sim-{plan.seed}-{i}",
                        },
                    )
                    r.raise_for_status()
                except httpx.HTTPError as exc:
                    report.errors += 1
                    log.warning("predict failed: %s", exc)
                    return
            body = r.json()
            report.sent += 1
            version = int(body["model"]["version"])
            if message.drifted and message.label == "spam":
                report.drifted_spam[version] += 1
                report.drifted_caught[version] += body["label"] == "spam"
            if rng.random() < plan.feedback_share:
                task = asyncio.create_task(feedback(body["prediction_id"], message.label))
                feedback_tasks.add(task)
                task.add_done_callback(feedback_tasks.discard)

        started = time.perf_counter()
        sending: set[asyncio.Task[None]] = set()
        for i, message in enumerate(traffic):
            delay = started + i / plan.rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i, message))
            sending.add(task)
            task.add_done_callback(sending.discard)
        with contextlib.suppress(ValueError):
            await asyncio.gather(*sending)
        await asyncio.gather(*list(feedback_tasks))
    return report


async def catch_rate(
    url: str, messages: Sequence[LabelledMessage], token: str | None = None
) -> tuple[float, int]:
    """Share of `messages` the serving model labels spam, and the model version."""
    async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=30.0) as client:
        caught, version = 0, 0
        for start in range(0, len(messages), 500):
            chunk = messages[start : start + 500]
            r = await client.post(
                "/predict/batch", json={"messages": [{"message": m.text} for m in chunk]}
            )
            r.raise_for_status()
            predictions = r.json()["predictions"]
            caught += sum(p["label"] == "spam" for p in predictions)
            version = int(predictions[-1]["model"]["version"])
    return caught / max(len(messages), 1), version
