"""The labelled scenario suite: `scenarios.jsonl` (one situation per line) as event histories.

Each line says what the agent has seen (`given`), what just arrived (`trigger`), and what an
operator expects it to do (`expect`, and for promote / A/B test the `target` version), with
`why`. The labels are the operator's expectation, written down as data, not output of the
policy; `build` turns a line into the events the agent would have folded, at fixed times
before `builders.NOW`, and the `Situation` they fold to.

`given` (all optional): `champion` (2), `previous` (champion - 1, or null), `promoted_h`
(hours since the champion's promotion, 72), `rolled_back_h` (the champion was restored by a
rollback that long ago), `retrains_min` (minutes since each retraining request),
`comparison` ({champion, challenger, decision, mcc_gain, fpr_delta, h}), `abtest` (running:
{challenger, h}), `performance` / `drift` (an earlier window: {accuracy | score, h}),
`decided_on_trigger` (an action already decided on this very trigger: a redelivery).
`trigger`: {type: drift, score, drifted?, version?} | {type: performance, accuracy,
version?} | {type: compared} (the given comparison arrives now) | {type: abtest, winner,
same_test? (default: whether an A/B test runs), arms? (tested version in the arms' figures),
reason?}.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from consumers.agent.deliberation import deliberate
from consumers.agent.guards import Guards
from consumers.agent.proposal import DecidingPolicy
from consumers.agent.situation import Situation, fold
from schemas.decisions import Decision
from schemas.events import Event
from spamops.settings import Settings
from tests.consumers.agent import builders as b

__all__ = ["SCENARIOS_FILE", "Evaluation", "Scenario", "build", "evaluate", "load"]

SCENARIOS_FILE = Path(__file__).with_name("scenarios.jsonl")


@dataclass(frozen=True)
class Scenario:
    id: str
    given: dict[str, Any]
    trigger: dict[str, Any]
    expect: str
    target: int | None
    why: str


def load(path: Path = SCENARIOS_FILE) -> list[Scenario]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        Scenario(r["id"], r.get("given", {}), r["trigger"], r["expect"], r.get("target"), r["why"])
        for r in rows
    ]


def _ago(hours: float = 0.0, minutes: float = 0.0) -> Any:
    return b.NOW - timedelta(hours=hours, minutes=minutes)


def _history(g: dict[str, Any], champion: int) -> list[Event]:
    events: list[Event] = []
    previous = g.get("previous", champion - 1 if champion > 1 else None)
    events.append(b.promoted(champion, previous, at=_ago(g.get("promoted_h", 72))))
    if "rolled_back_h" in g:
        bad, at = champion + 1, g["rolled_back_h"]
        events.append(b.promoted(bad, champion, at=_ago(at + 2)))
        events.append(b.rolled_back(bad, champion, at=_ago(at)))
    events.extend(b.retrain_requested(at=_ago(minutes=m)) for m in g.get("retrains_min", []))
    if "performance" in g:
        p = g["performance"]
        events.append(b.performance(p["accuracy"], champion, at=_ago(p.get("h", 1))))
    if "drift" in g:
        d = g["drift"]
        events.append(b.drift(d["score"], version=champion, at=_ago(d.get("h", 1))))
    return sorted(events, key=lambda e: e.occurred_at)


def _comparison(g: dict[str, Any], champion: int, now: bool) -> Event:
    c = g["comparison"]
    return b.compared(
        c.get("champion", champion),
        c.get("challenger", champion + 1),
        c.get("decision", "keep"),
        mcc_gain=c.get("mcc_gain", 0.02),
        fpr_delta=c.get("fpr_delta", 0.0),
        at=b.NOW if now else _ago(c.get("h", 1)),
    )


def _trigger(t: dict[str, Any], g: dict[str, Any], champion: int, test: Any) -> Event:
    match t["type"]:
        case "drift":
            version = t.get("version", champion)
            return b.drift(t["score"], t.get("drifted"), version=version)
        case "performance":
            return b.performance(t["accuracy"], t.get("version", champion))
        case "compared":
            return _comparison(g, champion, now=True)
        case "abtest":
            same = t.get("same_test", test is not None)
            return b.abtest_concluded(
                t["winner"],
                challenger=t.get("arms"),
                champion=champion,
                abtest_id=test.payload.abtest_id if same and test is not None else None,
                reason=t.get("reason", "significant"),
            )
    raise ValueError(f"unknown trigger type {t['type']!r}")


def build(s: Scenario) -> tuple[list[Event], Situation]:
    """The events of `s` in the order the agent folds them, and the situation they give."""
    g, champion = s.given, s.given.get("champion", 2)
    events = _history(g, champion)
    test = None
    if "abtest" in g:
        a = g["abtest"]
        test = b.abtest_started(champion, a["challenger"], at=_ago(a.get("h", 24)))
    context: list[Event] = [test] if test is not None else []
    if "comparison" in g and s.trigger["type"] != "compared":
        context.append(_comparison(g, champion, now=False))
    events = sorted([*events, *context], key=lambda e: e.occurred_at)
    trigger = _trigger(s.trigger, g, champion, test)
    events.append(trigger)
    if "decided_on_trigger" in g:
        events.append(b.decision_made(g["decided_on_trigger"], (trigger.id,)))
    situation = Situation(now=b.NOW - timedelta(days=10))
    for event in events:
        situation = fold(situation, event)
    return events, situation


@dataclass
class Evaluation:
    """How a policy (with the guards) did on scenarios: agreement and a confusion table."""

    n: int = 0
    agreed: int = 0
    fell_back: int = 0
    fell_back_agreed: int = 0
    """Of the fallbacks, how many were right (the rules', not the model's, answers)."""
    fallback_reasons: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(expected, decided) → count."""
    misses: list[tuple[Scenario, Decision]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.agreed / self.n if self.n else float("nan")

    @property
    def own_accuracy(self) -> float:
        """Accuracy of the answers the policy gave itself (without fallbacks)."""
        own = self.n - self.fell_back
        return (self.agreed - self.fell_back_agreed) / own if own else float("nan")

    def add(self, s: Scenario, decision: Decision) -> None:
        ok = decision.action == s.expect and (
            s.target is None or decision.target_version == s.target
        )
        self.n += 1
        self.agreed += ok
        self.fell_back += decision.fell_back
        self.fell_back_agreed += decision.fell_back and ok
        if decision.fallback_reason:
            self.fallback_reasons[decision.fallback_reason[:120]] += 1
        self.confusion[(s.expect, decision.action)] += 1
        if not ok:
            self.misses.append((s, decision))


async def evaluate(
    policy: DecidingPolicy, settings: Settings, scenarios: list[Scenario], concurrency: int = 1
) -> Evaluation:
    """Decide every scenario as the agent would (policy, then guards) and score it."""
    guards, result, gate = Guards(settings), Evaluation(), asyncio.Semaphore(concurrency)

    async def one(s: Scenario) -> Decision:
        async with gate:
            return await deliberate(policy, guards, build(s)[1])

    for s, decision in zip(scenarios, await asyncio.gather(*map(one, scenarios)), strict=True):
        result.add(s, decision)
    return result
