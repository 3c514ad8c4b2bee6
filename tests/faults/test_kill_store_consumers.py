"""kill -9 of the consumers that project, audit and measure traffic, in the middle of a stream.

Five victims (projector, audit, performance, abtest, drift), one process each, read a live
stream of predictions and labels (half of them in an A/B test). Each is frozen and killed
at a moment it holds read but unacknowledged entries; one replacement process then hosts
all five groups, reclaims the dead members' entries and finishes the stream. Afterwards
every event must have been handled once, after dedupe.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path

import orjson
import pytest

from bus.embedded import EmbeddedRedis
from bus.replies import text
from schemas.abtests import AbTestStart
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.envelope import Envelope
from schemas.events import AbTestStarted
from tests.faults.checks import audit_view, open_store, rows, stream_ids
from tests.faults.conftest import Models, StackFactory
from tests.faults.stack import Stack, wait_until
from tests.faults.traffic import NAME, Pacer, corpus_sample, feedback_for, predictions

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.mlflow]

P, F = StreamName.PREDICTIONS, StreamName.FEEDBACK
WINDOW = 50
VICTIMS: dict[str, tuple[StreamName, ...]] = {
    "projector": (P, F, StreamName.ABTESTS, StreamName.DRIFT),
    "audit": tuple(StreamName),
    "performance": (P, F),
    "abtest": (P, F),
    "drift": (P,),
}
MONITORING = {
    "SPAMOPS_MONITORING__DRIFT_WINDOW": str(WINDOW),
    "SPAMOPS_MONITORING__DRIFT_MIN_WINDOW": "20",
    "SPAMOPS_MONITORING__DRIFT_CALIBRATION_WINDOWS": "30",
    "SPAMOPS_MONITORING__PERFORMANCE_WINDOW": str(WINDOW),
    "SPAMOPS_MONITORING__PERFORMANCE_MIN_WINDOW": "10",
    "SPAMOPS_MONITORING__TICK_INTERVAL_S": "60",
}


def _progressed(stack: Stack, group: str, streams: tuple[StreamName, ...], n: int) -> bool:
    return stack.acknowledged(group, streams) >= n


def _measured(stack: Stack, kind: str) -> int:
    """Predictions measured by drift or performance: closed windows plus the open ones."""
    event_type = "drift.measured" if kind == "drift" else "performance.measured"
    closed = 0
    for e in stack.of_type(event_type):
        closed += e.payload.n if kind == "drift" else e.payload.metrics.n
    open_ids: set[str] = set()
    for key in stack.redis.scan_iter(match=f"{stack.prefix}state:{kind}:window:*:items"):
        open_ids |= {orjson.loads(item)[0] for item in stack.redis.lrange(key, 0, -1)}
    return closed + len(open_ids)


def test_every_consumer_killed_mid_batch_loses_and_repeats_nothing(
    redis_aof: EmbeddedRedis,
    make_stack: StackFactory,
    fault_models: Models,
    dataset_path: Path,
) -> None:
    stack = make_stack(redis_aof.url, fault_models, **MONITORING)
    ab = uuid.uuid4()
    stack.publish(
        [
            AbTestStarted(
                source="api@faults",
                payload=AbTestStart(
                    abtest_id=ab,
                    champion=ModelRef(name=NAME, version=1, alias="champion"),
                    challenger=ModelRef(name=NAME, version=2, alias="challenger"),
                    split=0.5,
                    started_by="faults",
                ),
            )
        ]
    )
    sample = corpus_sample(Path(fault_models.env["SPAMOPS_MODEL__DATASET_PATH"]), 900)
    plain = predictions(sample[:450])
    tested = predictions(sample[450:], abtest_id=ab, challenger=2)
    made = plain + tested
    labels = feedback_for(made, [label for _, label in sample], share=0.6)
    by_prediction = {f.payload.prediction_id: f for f in labels}
    traffic: list[Envelope] = []
    for m in made:  # each label right behind its prediction, as a fast labeller would send
        traffic.append(m)
        if m.payload.prediction_id in by_prediction:
            traffic.append(by_prediction[m.payload.prediction_id])

    victims = {n: stack.consume(n, member=f"victim-{n}", wait=False) for n in VICTIMS}
    for proc in victims.values():
        stack.wait_consuming(proc)
    pacer = Pacer(stack, traffic, rate_per_s=400).start()
    held: dict[str, int] = {}
    for name, proc in victims.items():
        streams = VICTIMS[name]
        wait_until(
            functools.partial(_progressed, stack, name, streams, 100),
            60,
            f"{name} to make progress\n{stack.logs()}",
        )
        held[name] = stack.kill_with_work_in_hand(proc, name, streams)
    assert not pacer.done, "the stream ended before every victim was killed: slow the pacer"
    stack.consume(*VICTIMS, member="replacement")
    pacer.join()
    for name, streams in VICTIMS.items():
        wait_until(
            functools.partial(stack.caught_up, name, streams),
            90,
            f"{name} to finish the stream\n{stack.logs()}",
        )
    wait_until(lambda: stack.caught_up("audit", tuple(StreamName)), 30, "audit of the windows")

    problems: list[str] = []
    with open_store(stack) as engine:
        # projector: one row per prediction, per label, per window
        for table, expected in (
            ("predictions", len(made)),
            ("feedback", len(labels)),
            ("abtests", 1),
            ("drift_windows", len(stack.of_type("drift.measured"))),
            ("performance_windows", len(stack.of_type("performance.measured"))),
        ):
            if (found := rows(engine, table)) != expected:
                problems.append(f"projector: {table} has {found} rows, expected {expected}")
        # audit: published ids = audit rows, each once, chain intact
        audit = audit_view(engine)
    published = stream_ids(stack)
    if set(audit.ids) != published or audit.duplicated or not audit.verified:
        problems.append(
            f"audit: {len(published - set(audit.ids))} ids missing, "
            f"{len(set(audit.ids) - published)} unknown, {len(audit.duplicated)} duplicated, "
            f"chain verified: {audit.verified}"
        )
    # abtest: every served and every labelled prediction of the test counted once
    counts = {
        text(k): int(v)
        for k, v in stack.redis.hgetall(f"{stack.prefix}state:abtest:counts:{ab}").items()
    }
    served = counts.get("champion:served", 0) + counts.get("challenger:served", 0)
    labelled = counts.get("champion:n", 0) + counts.get("challenger:n", 0)
    tested_ids = {m.payload.prediction_id for m in tested}
    expected_labelled = sum(1 for f in labels if f.payload.prediction_id in tested_ids)
    if (served, labelled) != (len(tested), expected_labelled):
        problems.append(
            f"abtest: served {served} (expected {len(tested)}), "
            f"labelled {labelled} (expected {expected_labelled})"
        )
    # drift and performance: every prediction (label) in a window, none twice, no window lost
    v1 = sum(1 for m in made if m.payload.model.version == 1)
    for kind, expected in (("drift", v1), ("performance", len(labels))):
        found = _measured(stack, kind)
        if found != expected:
            problems.append(
                f"{kind}: {found} measured, expected {expected} "
                f"(held {held[kind]} entries when killed)"
            )
    print(f"\nheld at kill: {held}; events: {len(traffic)}")
    assert not problems, "\n".join(problems)
