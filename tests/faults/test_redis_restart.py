"""Redis restarted under steady API traffic, with and without persistence.

With AOF (appendfsync everysec, as in production) Redis is stopped (SIGTERM: it flushes its
AOF) for two seconds in the middle of the traffic and started again on the same port and
directory. The API must answer every request, spooling what it cannot publish; afterwards
every event id on the streams — predictions, access records — must be in the audit log
exactly once, and every prediction the API answered must be on the stream and in the store.

Without persistence, a restart empties Redis. The loss is what docs/reliability.md says:
the events Redis held that a group had not yet read (here: predictions sent while the
projector was frozen) are gone for that group; what the API spooled while Redis was down,
and everything after, is projected once the projector has re-created its group.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from bus.embedded import EmbeddedRedis
from schemas.catalogue import StreamName
from schemas.events import PredictionMade
from tests.faults.checks import audit_view, open_store, rows, stream_ids
from tests.faults.conftest import Models, StackFactory
from tests.faults.stack import Stack, wait_until
from tests.faults.traffic import ApiLoad, corpus_sample, predict_all

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.mlflow]

P = (StreamName.PREDICTIONS,)


def _texts(models: Models, n: int, seed: int) -> list[str]:
    return [t for t, _ in corpus_sample(Path(models.env["SPAMOPS_MODEL__DATASET_PATH"]), n, seed)]


def _stream_predictions(stack: Stack) -> list[str]:
    return [
        str(e.payload.prediction_id)
        for e in stack.events(StreamName.PREDICTIONS)
        if isinstance(e, PredictionMade)
    ]


def _projected(stack: Stack) -> set[str]:
    from sqlalchemy import text

    with open_store(stack) as engine, engine.connect() as conn:
        found = conn.execute(text("SELECT prediction_id FROM predictions")).scalars().all()
    return {str(p).replace("-", "") for p in found}


def _hex(ids: list[str]) -> set[str]:
    return {i.replace("-", "") for i in ids}


def test_aof_redis_restarted_under_traffic_loses_no_event(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, fault_models: Models
) -> None:
    stack = make_stack(redis_aof.url, fault_models)
    store = stack.consume("projector", "audit", member="store-1", wait=False)
    api = stack.api()
    stack.wait_consuming(store)
    load = ApiLoad(api, _texts(fault_models, 600, seed=11), rate_per_s=150).start()
    wait_until(lambda: load.sent >= 150, 20, "traffic before the restart")
    redis_aof.stop()  # SIGTERM: Redis writes out its AOF and exits
    down_from = load.sent
    time.sleep(2.0)
    assert api.get("/health").status_code == 200
    redis_aof.start()
    down = load.sent - down_from
    load.join()
    assert load.statuses == {200: 600}, load.statuses
    streams = tuple(StreamName)
    wait_until(
        lambda: len(_stream_predictions(stack)) >= 600, 30, f"the spool flushed\n{stack.logs()}"
    )
    wait_until(functools.partial(stack.caught_up, "audit", streams), 60, f"audit\n{stack.logs()}")
    wait_until(functools.partial(stack.caught_up, "projector", P), 30, f"projector\n{stack.logs()}")
    on_stream = _stream_predictions(stack)
    assert set(on_stream) == set(load.ids), "a prediction lost"
    # A write that reached Redis as it shut down may be spooled and sent again (at least
    # once): the same event, same id, which every consumer dedupes. Never a second event.
    events = [e for e in stack.events(StreamName.PREDICTIONS) if isinstance(e, PredictionMade)]
    by_prediction = {str(e.payload.prediction_id): set[str]() for e in events}
    for e in events:
        by_prediction[str(e.payload.prediction_id)].add(e.id.hex)
    assert all(len(ids) == 1 for ids in by_prediction.values()), "one prediction, two events"
    with open_store(stack) as engine:
        audit = audit_view(engine)
        assert rows(engine, "predictions") == 600
    published = stream_ids(stack)
    assert set(audit.ids) == published and not audit.duplicated and audit.verified
    assert _projected(stack) == _hex(load.ids)
    print(
        f"\nrequests while Redis was down: {down}; p99 {sorted(load.latencies_ms)[593]:.1f} ms;"
        f" audited events: {len(published)}"
    )
    assert down > 100, "Redis was not down during the traffic"


def test_redis_without_persistence_restarted_loses_only_what_it_held(
    tmp_path: Path, make_stack: StackFactory, fault_models: Models
) -> None:
    redis = EmbeddedRedis(tmp_path / "volatile", persistence="none").start()
    try:
        stack = make_stack(redis.url, fault_models)
        projector = stack.consume("projector", member="projector-1", wait=False)
        api = stack.api()
        stack.wait_consuming(projector)
        texts = _texts(fault_models, 400, seed=12)

        before, s1 = predict_all(api, texts[:100])
        wait_until(lambda: _projected(stack) >= _hex(before), 30, "the first traffic projected")
        stack.freeze(projector)
        held, s2 = predict_all(api, texts[100:200])  # on the stream, not yet read
        redis.stop()
        spooled, s3 = predict_all(api, texts[200:250])  # Redis down: the API spools
        assert api.get("/ready").json()["bus"] == "spooling"
        redis.start()
        stack.thaw(projector)
        after, s4 = predict_all(api, texts[250:400])
        assert s1 + s2 + s3 + s4 == {200: 400}
        kept = _hex(before + spooled + after)
        wait_until(
            lambda: _projected(stack) >= _hex(spooled + after),
            30,
            f"traffic after the restart projected\n{stack.logs()}",
        )
        wait_until(functools.partial(stack.caught_up, "projector", P), 30, "projector")
        assert _projected(stack) == kept, "lost more (or less) than what Redis held"
        assert not _projected(stack) & _hex(held)
        assert "vanished" in projector.tail(10**6), "the group was not re-created"
        print(f"\nlost with the restart: {len(held)} predictions, projected: {len(kept)}")
    finally:
        redis.stop()
