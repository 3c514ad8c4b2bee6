"""Helpers of the store tests: table snapshots to compare databases row for row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from schemas.envelope import Envelope
from schemas.events import Event
from store.engine import read_session
from store.projection import Projection
from store.tables.base import projection_tables

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every projection table, ordered by primary key."""
    out: Snapshot = {}
    with read_session(engine) as session:
        for table in projection_tables():
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in session.execute(query)]
    return out


def project(engine: Engine, events: Iterable[Envelope], batch: int = 1000) -> None:
    """Project `events` in order, `batch` per transaction."""
    projection = Projection(engine)
    pending: list[Event] = list(events)  # type: ignore[arg-type]
    for i in range(0, len(pending), batch):
        projection.project(pending[i : i + batch])
