"""The retrainer crashed (kill -9) and frozen (SIGSTOP past the reclaim idle time) in the
middle of retraining runs, against a real MLflow registry (SQLite) and a real SQL store.

Three requests, three faults: the first member is killed while training for request 1; a
second member, started in its place, is killed right after it published `model.trained`
for request 2 (before comparing); of two live members, the one handling request 3 is
frozen until the other has claimed the request, then woken up. Every request must end
with exactly one trained version, one comparison and at most one promotion, and the
registry must hold exactly one new version per request.
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

import pytest

from bus.embedded import EmbeddedRedis
from ml.registry import ModelRegistry
from schemas.catalogue import StreamName
from spamops.settings import Settings
from store.engine import engine_for_url
from store.migrate import upgrade
from tests import factories
from tests.faults.conftest import Models, StackFactory
from tests.faults.stack import Proc, Stack, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.mlflow]

GROUP = "retrainer"
D = (StreamName.DECISIONS,)


def _for(stack: Stack, event_type: str, request: UUID) -> list[Any]:
    """Events of `event_type` on the models stream that belong to retrain `request`."""
    return [
        e
        for e in stack.of_type(event_type)
        if getattr(e.payload, "retrain_request_id", None) == request or e.correlation == request
    ]


def _done(stack: Stack, request: UUID) -> bool:
    return bool(stack.redis.hget(stack.key(f"state:retrain:{request}"), "done"))


def _holding(stack: Stack, proc: Proc) -> bool:
    return stack.pending(StreamName.DECISIONS, GROUP, proc.name) > 0


def test_retrainer_killed_and_frozen_retrains_each_request_once(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, own_models: Models
) -> None:
    stack = make_stack(
        redis_aof.url,
        own_models,
        # A dead member's lock is free again after 6 s (default 30 min): longer than one
        # retraining on the small corpus (about 2 s), and than the freeze below.
        SPAMOPS_RETRAIN__LOCK_TTL_S="6",
        SPAMOPS_BUS__MAX_DELIVERIES="30",
    )
    engine = engine_for_url(stack.env["SPAMOPS_DATABASE_URL"])
    upgrade(engine)  # the retrainer reads labelled messages from the store
    engine.dispose()
    requests = [factories.retrain("manual") for _ in range(3)]

    # 1. killed while training for request 1
    first = stack.consume("retrainer", member="retrainer-1")
    stack.publish(requests[:1])
    r1 = requests[0].id
    wait_until(functools.partial(_holding, stack, first), 20, "retrainer-1 to take request 1")
    stack.freeze(first)
    assert not _for(stack, "model.trained", r1), "trained already: the kill came too late"
    stack.kill(first)

    # 2. killed right after publishing `model.trained` for request 2, before comparing
    second = stack.consume("retrainer", member="retrainer-2")
    wait_until(functools.partial(_done, stack, r1), 60, f"request 1 done\n{stack.logs()}")
    stack.publish(requests[1:2])
    r2 = requests[1].id
    wait_until(lambda: bool(_for(stack, "model.trained", r2)), 60, "request 2 trained")
    stack.freeze(second)
    compared_before_kill = len(_for(stack, "model.compared", r2))
    stack.kill(second)

    # 3. frozen past the reclaim idle time while handling request 3, then woken up
    third = stack.consume("retrainer", member="retrainer-3", wait=False)
    fourth = stack.consume("retrainer", member="retrainer-4", wait=False)
    for proc in (third, fourth):
        stack.wait_consuming(proc)
    wait_until(functools.partial(_done, stack, r2), 60, f"request 2 done\n{stack.logs()}")
    stack.publish(requests[2:])
    r3 = requests[2].id
    wait_until(
        lambda: _holding(stack, third) or _holding(stack, fourth), 20, "a member to take request 3"
    )
    frozen, other = (third, fourth) if _holding(stack, third) else (fourth, third)
    stack.freeze(frozen)
    wait_until(
        functools.partial(_holding, stack, other),
        10,
        "the other member to claim the frozen member's request",
    )
    stack.thaw(frozen)
    wait_until(functools.partial(_done, stack, r3), 60, f"request 3 done\n{stack.logs()}")
    wait_until(functools.partial(stack.caught_up, GROUP, D), 30, "every request acknowledged")

    per_request = {
        i + 1: {
            kind: len(_for(stack, kind, r.id))
            for kind in ("model.trained", "model.compared", "model.promoted")
        }
        for i, r in enumerate(requests)
    }
    print(f"\nper request: {per_request}; compared before the 2nd kill: {compared_before_kill}")
    for n, counts in per_request.items():
        assert counts["model.trained"] == 1, (n, counts)
        assert counts["model.compared"] == 1, (n, counts)
        assert counts["model.promoted"] <= 1, (n, counts)
    settings = Settings(
        _env_file=None,
        mlflow_tracking_uri=own_models.env["SPAMOPS_MLFLOW_TRACKING_URI"],
    )
    versions = sorted(v.version for v in ModelRegistry(settings).versions())
    assert versions == [1, 2, 3, 4], "a version registered twice, or one never registered"
    assert not stack.dead_letters()
