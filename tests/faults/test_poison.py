"""Poison entries on every stream, read by every consumer, run as `spamops up` groups them.

Four kinds of poison per stream — no `event` field, bytes that are not JSON, an unknown
event type, a known type whose payload does not validate — then valid traffic behind them.
Every group reading a stream must dead-letter each of its poison entries exactly once and
go on: the valid events after the poison are handled (projected, audited, delivered), every
group catches up, the alert raiser raises one alert per (stream, group) whose consumer
dead-lettered something, and that alert reaches a real webhook.
(Poison on `deadletter` itself is only acknowledged and logged: a dead letter is never
dead-lettered, that could loop.)
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fakeredis import FakeAsyncRedis

from bus.bus import RedisBus
from bus.embedded import EmbeddedRedis
from consumers.runner import CONSUMER_FACTORIES, build
from schemas.catalogue import STREAM_OF_TYPE, StreamName
from schemas.events import AlertRaised
from spamops.launcher.plan import CONSUMER_PROCESSES
from spamops.settings import Settings
from tests.consumers.alerter import builders
from tests.consumers.alerter.receivers import HttpReceiver
from tests.faults.checks import audit_view, open_store, rows, stream_ids
from tests.faults.conftest import Models, StackFactory
from tests.faults.stack import wait_until
from tests.faults.traffic import corpus_sample, feedback_for, predictions

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.mlflow]

DL = StreamName.DEADLETTER


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def _readers() -> dict[str, tuple[StreamName, ...]]:
    """Group → streams, of every consumer `spamops consume` knows."""
    bus = RedisBus(FakeAsyncRedis(), Settings(_env_file=None, env="test"))
    out: dict[str, tuple[StreamName, ...]] = {}
    for name in CONSUMER_FACTORIES:
        app = build(name, bus.settings, bus)
        out[app.group] = tuple(app.streams)
    return out


def _poison(stream: StreamName) -> list[dict[str | bytes, str | bytes]]:
    event_type = next(t for t, s in STREAM_OF_TYPE.items() if s == stream)
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "schema": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "source": "poison@faults",
        "correlation": str(uuid.uuid4()),
    }
    return [
        {"id": "poison", "type": event_type},  # no `event` field
        {"id": "poison", "type": event_type, "event": b"\xff\xfe{not json"},
        {"event": json.dumps(envelope | {"type": "no.such.type", "payload": {}})},
        {"event": json.dumps(envelope | {"payload": {"unexpected": True}})},
    ]


def test_poison_on_every_stream_is_dead_lettered_and_the_flow_goes_on(
    redis_aof: EmbeddedRedis,
    make_stack: StackFactory,
    fault_models: Models,
    receiver: HttpReceiver,
) -> None:
    stack = make_stack(
        redis_aof.url,
        fault_models,
        SPAMOPS_ALERTS__WEBHOOK__URL=receiver.url(),
        SPAMOPS_ALERTS__WEBHOOK__SECRET=builders.SECRET,
    )
    procs = [
        stack.consume(*names, member=process, wait=False)
        for process, names in CONSUMER_PROCESSES.items()
    ]
    readers = _readers()
    for proc in procs:
        stack.wait_consuming(proc)
    for group, streams in readers.items():  # groups at "$" must exist before the poison
        for s in streams:
            wait_until(functools.partial(stack.has_group, s, group), 20, f"group {group} on {s}")

    poison = {s: [stack.add_raw(s, fields) for fields in _poison(s)] for s in StreamName}
    sample = corpus_sample(Path(fault_models.env["SPAMOPS_MODEL__DATASET_PATH"]), 40)
    made = predictions(sample)
    labels = feedback_for(made, [label for _, label in sample], share=1.0)
    after = builders.alert("warning")
    stack.publish([*made, *labels, after])

    expected = {(s, g) for g, streams in readers.items() for s in streams if s != DL}
    for group, streams in readers.items():
        wait_until(
            functools.partial(stack.caught_up, group, streams),
            60,
            f"{group} to get past the poison\n{stack.logs()}",
        )
    wait_until(lambda: len(stack.dead_letters()) >= 4 * len(expected), 30, "every dead letter")
    # Every group caught up again, dead letters and alerts included.
    for group, streams in readers.items():
        wait_until(functools.partial(stack.caught_up, group, streams), 30, f"{group} at the end")

    letters = Counter((StreamName(d.stream), d.group, d.entry_id) for d in stack.dead_letters())
    assert all(n == 1 for n in letters.values()), "an entry dead-lettered twice"
    by_pair: dict[tuple[StreamName, str], set[str]] = {}
    for s, g, entry_id in letters:
        by_pair.setdefault((s, g), set()).add(entry_id)
    assert set(by_pair) == expected
    for (s, g), ids in by_pair.items():
        assert ids == set(poison[s]), (s, g)

    # One alert per (stream, group), raised and delivered; the valid traffic went through.
    def dead_letter_alerts() -> set[tuple[str, str]]:
        return {
            (a.payload.labels["stream"], a.payload.labels["group"])
            for a in stack.of_type("alert.raised")
            if isinstance(a, AlertRaised) and a.payload.labels.get("kind") == "deadletter"
        }

    wanted = {(str(s), g) for s, g in expected}
    wait_until(lambda: dead_letter_alerts() == wanted, 30, "an alert per (stream, group)")
    raised = [
        a for a in stack.of_type("alert.raised") if a.payload.labels.get("kind") == "deadletter"
    ]
    assert len(raised) == len(expected)
    wanted_ids = {str(a.id) for a in raised} | {str(after.id)}
    wait_until(
        lambda: {r.headers["X-Spamops-Event-Id"] for r in receiver.delivered} >= wanted_ids,
        30,
        "the alerts delivered to the webhook",
    )
    hooks = Counter(r.headers["X-Spamops-Event-Id"] for r in receiver.delivered)
    assert all(n == 1 for n in hooks.values())
    bodies = [orjson.loads(r.body) for r in receiver.delivered]
    assert any(b["payload"]["labels"].get("stream") == "predictions" for b in bodies)
    wait_until(functools.partial(stack.caught_up, "audit", tuple(StreamName)), 30, "the audit log")
    with open_store(stack) as engine:
        assert rows(engine, "predictions") == len(made)
        assert rows(engine, "feedback") == len(labels)
        audit = audit_view(engine)
    assert set(audit.ids) == stream_ids(stack) and not audit.duplicated and audit.verified
    print(
        f"\npoison entries: {sum(map(len, poison.values()))}; dead letters: {len(letters)};"
        f" (stream, group) pairs alerted: {len(raised)}"
    )
