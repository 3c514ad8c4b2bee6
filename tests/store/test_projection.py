"""Projection: every event type lands where it should, idempotently, in any order."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from schemas.envelope import Envelope
from store.engine import read_session
from store.projection import Projection
from store.rebuild import wipe
from store.tables import (
    AbTestRow,
    AlertDeliveryRow,
    AliasChangeRow,
    FeedbackRow,
    PredictionRow,
    RetrainingRunRow,
)
from tests.store import scenario
from tests.store.helpers import project, snapshot


def test_every_event_type_is_projected_with_its_event_id(engine: Engine) -> None:
    events = scenario.history()
    project(engine, events)
    counts = {name: len(rows) for name, rows in snapshot(engine).items()}
    assert counts == {
        "predictions": 4,
        "feedback": 4,
        "drift_windows": 2,
        "performance_windows": 2,
        "decisions": 1,
        "retraining_runs": 3,
        "model_versions": 3,
        "model_comparisons": 2,
        "alias_history": 2,
        "alerts": 2,
        "alert_deliveries": 2,
        "abtests": 1,
    }
    ids = {e.id for e in events}
    with read_session(engine) as session:
        assert set(session.scalars(select(PredictionRow.event_id))) <= ids
        assert set(session.scalars(select(AliasChangeRow.event_id))) <= ids
        assert set(session.scalars(select(AlertDeliveryRow.event_id))) <= ids


def test_replaying_and_duplicates_change_nothing(engine: Engine) -> None:
    events = scenario.history()
    project(engine, events)
    once = snapshot(engine)
    project(engine, events + events[:5], batch=7)  # redelivered, and twice in one batch
    assert snapshot(engine) == once


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_arrival_order_gives_the_same_tables(engine: Engine, seed: int) -> None:
    events = scenario.history()
    project(engine, events)
    expected = snapshot(engine)
    wipe(engine)
    shuffled = list(events)
    rng = random.Random(seed)
    rng.shuffle(shuffled)
    project(engine, shuffled, batch=rng.randint(1, 9))
    assert snapshot(engine) == expected


def test_the_newest_label_wins_whatever_the_order(engine: Engine) -> None:
    p = scenario.prediction("win big")
    first = scenario.feedback(p, "ham", at=scenario.T0)
    second = scenario.feedback(p, "spam", at=scenario.T0)
    assert second.id > first.id
    project(engine, [p, second, first], batch=1)
    with read_session(engine) as session:
        row = session.get(FeedbackRow, p.payload.prediction_id)
        assert row is not None and (row.label, row.event_id) == ("spam", second.id)


def _run(engine: Engine, request_id: uuid.UUID) -> RetrainingRunRow:
    with read_session(engine) as session:
        row = session.get(RetrainingRunRow, request_id)
        assert row is not None
        return row


def test_a_run_moves_through_its_statuses(engine: Engine) -> None:
    at = scenario.T0
    request = scenario.retrain(at)
    steps: list[tuple[Envelope, str]] = [(request, "requested")]
    steps.append((scenario.trained(at, 2, request), "trained"))
    comparison = scenario.compared(at, 1, 2, "promote", request)
    steps.append((comparison, "compared"))
    steps.append((scenario.promoted(at, 2, 1, comparison), "promoted"))
    for event, status in steps:
        project(engine, [event])
        assert _run(engine, request.id).status == status
    run = _run(engine, request.id)
    assert run.promoted_event_id == steps[-1][0].id
    assert (run.challenger_version, run.decision, run.mcnemar_p) == (2, "promote", 0.0003)


def test_a_run_assembles_from_events_in_reverse_order(engine: Engine) -> None:
    at = scenario.T0
    request = scenario.retrain(at)
    comparison = scenario.compared(at, 1, 2, "promote", request)
    promotion = scenario.promoted(at, 2, 1, comparison)
    events = [request, scenario.trained(at, 2, request), comparison, promotion]
    project(engine, reversed(events), batch=1)
    run = _run(engine, request.id)
    assert run.status == "promoted"
    assert run.requested_event_id == request.id and run.compared_event_id == comparison.id


def test_kept_and_failed_runs(engine: Engine) -> None:
    at = scenario.T0
    kept, failed = scenario.retrain(at), scenario.retrain(at)
    raised = scenario.alert(at, "boom", {"retrain_request_id": str(failed.id)})
    not_a_run = scenario.alert(at, "odd", {"retrain_request_id": "not-a-uuid"})
    project(engine, [kept, scenario.compared(at, 1, 2, "keep", kept), failed, raised, not_a_run])
    assert _run(engine, kept.id).status == "kept"
    run = _run(engine, failed.id)
    assert (run.status, run.failure, run.failed_event_id) == ("failed", "boom: details", raised.id)


def test_abtest_keeps_the_newest_update_in_any_order(engine: Engine) -> None:
    started, early, late, concluded = scenario.abtest(scenario.T0)
    project(engine, [late, concluded, early, started], batch=1)
    with read_session(engine) as session:
        row = session.scalars(select(AbTestRow)).one()
    assert row.updated_event_id == late.id and row.planned_samples == 2000
    assert (row.started_event_id, row.concluded_event_id) == (started.id, concluded.id)


def test_nul_characters_in_texts_are_stored_everywhere(engine: Engine) -> None:
    p = scenario.prediction("win\x00now")
    project(engine, [p])
    with read_session(engine) as session:
        row = session.get(PredictionRow, p.payload.prediction_id)
    assert row is not None and row.text == "win\ufffdnow"


def test_events_the_store_does_not_project_write_nothing(engine: Engine) -> None:
    result = Projection(engine).project([scenario.access(scenario.T0)])
    assert result.events == 1 and result.rows == {}
    assert all(not rows for rows in snapshot(engine).values())


@pytest.mark.postgres
def test_concurrent_projectors_do_not_lose_a_promotion(
    postgres_url: str, make_engine: Callable[..., Engine]
) -> None:
    """Replica A projects a promotion while replica B projects the comparison it names."""
    engine = make_engine(postgres_url)
    request = scenario.retrain(scenario.T0)
    comparison = scenario.compared(scenario.T0, 1, 2, "promote", request)
    promotion = scenario.promoted(scenario.T0, 2, 1, comparison)
    projection = Projection(engine)
    with Session(engine) as a, a.begin():
        projection.apply(a, [promotion])  # holds the runs lock until it commits

        def replica_b() -> None:
            with Session(engine) as b, b.begin():
                projection.apply(b, [request, comparison])

        b = threading.Thread(target=replica_b)
        b.start()
        b.join(0.3)
        assert b.is_alive()  # waiting for A
    b.join(5)
    assert _run(engine, request.id).status == "promoted"
