"""The dashboard's store queries on both backends: minute buckets are an SQL idiom of each
(`strftime` on SQLite, `date_trunc` on PostgreSQL), so both are run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from schemas.events import Event
from store.engine import read_session
from store.projection import Projection
from store.queries.dashboard import prediction_audit, traffic_per_minute
from tests.consumers.agent.builders import promoted
from tests.dashboard import seed
from tests.store.conftest import (
    database_url,
    engine,
    make_engine,
    new_database,
    postgres_databases,
    postgres_server,
    sqlite_databases,
)

# The store tests' databases: `engine` is a migrated one, on SQLite and on PostgreSQL.
STORE_FIXTURES = (
    database_url,
    engine,
    make_engine,
    new_database,
    postgres_databases,
    postgres_server,
    sqlite_databases,
)
NOW = datetime(2026, 11, 26, 12, 30, 20, tzinfo=UTC)


def _project(engine: Engine, events: list[Event]) -> None:
    Projection(engine).project(events)


def test_traffic_per_minute(engine: Engine) -> None:
    background = seed.background_traffic(NOW)  # 10 a minute, 12:00 to 12:29
    _project(engine, list(background))
    with read_session(engine) as session:
        summary = traffic_per_minute(
            session, since=datetime(2026, 11, 26, 11, 58, tzinfo=UTC), until=NOW
        )
    assert [m.minute.strftime("%H:%M") for m in summary.minutes[:3]] == ["11:58", "11:59", "12:00"]
    assert len(summary.minutes) == 33 and summary.minutes[-1].minute.strftime("%H:%M") == "12:30"
    counts = [m.predictions for m in summary.minutes]
    assert counts == [0, 0, *[10] * 30, 0]
    assert summary.minutes[0].spam_rate is None and summary.minutes[2].spam_rate == 0.1
    assert (summary.predictions, summary.spam, summary.challenger) == (300, 90, 30)
    assert summary.minutes[-2].challenger == 2 and summary.minutes[2].challenger == 0
    assert summary.mean_latency_ms is not None and 0.3 < summary.mean_latency_ms < 0.8
    with read_session(engine) as session:
        later = traffic_per_minute(session, since=NOW, until=NOW + timedelta(minutes=2))
    assert later.predictions == 0 and later.spam_rate is None and later.mean_latency_ms is None


def test_prediction_audit_finds_the_promotion_that_put_the_model_in_service(
    engine: Engine,
) -> None:
    prediction = seed.background_traffic(NOW)[0]  # v2, champion, at 12:00
    _project(
        engine,
        [
            promoted(2, 1, at=NOW - timedelta(days=1)),
            promoted(3, 2, at=NOW + timedelta(days=1)),  # after the prediction: not the cause
            prediction,
        ],
    )
    with read_session(engine) as session:
        audit = prediction_audit(session, prediction.payload.prediction_id)
        assert prediction_audit(session, uuid.uuid4()) is None
    assert audit is not None and audit.prediction.model.version == 2
    assert audit.promotion is not None and audit.promotion.to_version == 2
    assert audit.promotion.from_version == 1 and audit.model_version is None
