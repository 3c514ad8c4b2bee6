"""The upsert rule: one row per key, the greatest version wins."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Dialect, create_engine

from store.errors import UnsupportedDatabaseError
from store.targets import TARGETS
from store.upsert import Upserter, newest_per_key


def test_newest_per_key_keeps_the_greatest_version() -> None:
    target = TARGETS["feedback"]
    key = uuid.uuid4()
    old, new = sorted((uuid.uuid4(), uuid.uuid4()))
    rows = [
        {"prediction_id": key, "event_id": new, "label": "spam"},
        {"prediction_id": key, "event_id": old, "label": "ham"},
        {"prediction_id": uuid.uuid4(), "event_id": old, "label": "ham"},
    ]
    kept = newest_per_key(target, rows)
    assert len(kept) == 2 and kept[0]["label"] == "spam"


def test_other_dialects_are_refused() -> None:
    with pytest.raises(UnsupportedDatabaseError, match="SQLite and PostgreSQL"):
        Upserter("mysql")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_statements_are_built_once(dialect: str) -> None:
    upserter = Upserter(dialect)
    target = TARGETS["runs.trained"]
    assert upserter.statement(target) is upserter.statement(target)
    sql = str(upserter.statement(target).compile(dialect=_dialect(dialect)))
    assert "ON CONFLICT (request_id) DO UPDATE" in sql
    assert "WHERE retraining_runs.trained_event_id IS NULL" in sql
    assert "status =" not in sql.split("DO UPDATE")[1]  # the placeholder is insert-only


def _dialect(name: str) -> Dialect:
    url = "postgresql+psycopg://u@h/db" if name == "postgresql" else "sqlite://"
    return create_engine(url).dialect  # an engine connects only when used
