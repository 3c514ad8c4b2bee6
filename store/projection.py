"""Applying events to the store: the one code path of the live projector and of rebuild.

A batch of events becomes rows grouped per target, each group one idempotent upsert
(`store.upsert`), then the derived columns of the retraining runs it touched are
recomputed (`store.runs`) — all inside the caller's transaction, so a batch is projected
entirely or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from schemas.events import Event
from store.engine import write_session
from store.rows import rows_of
from store.runs import refresh_runs
from store.tables import RetrainingRunRow
from store.targets import TARGETS
from store.upsert import Upserter

__all__ = ["Projection", "ProjectionResult"]


@dataclass(slots=True)
class ProjectionResult:
    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Distinct rows (or column groups) upserted, per target."""


class Projection:
    """Projects events into one database; build it once per engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.upserter = Upserter(engine.dialect.name)

    def apply(self, session: Session, events: Iterable[Event]) -> ProjectionResult:
        """Write `events` in the session's transaction (the caller commits)."""
        result = ProjectionResult()
        grouped: dict[str, list[dict[str, object]]] = {}
        for event in events:
            result.events += 1
            for target, row in rows_of(event):
                grouped.setdefault(target.name, []).append(row)
        runs_table = RetrainingRunRow.__table__
        request_ids: set[uuid.UUID] = set()
        comparison_ids: set[uuid.UUID] = set()
        for name, rows in grouped.items():
            target = TARGETS[name]
            result.rows[name] = self.upserter.write(session, target, rows)
            if target.table is runs_table:
                request_ids.update(_uuids(rows, "request_id"))
            elif name == "alias_history":
                comparison_ids.update(_uuids(rows, "comparison_event_id"))
        refresh_runs(session, request_ids, comparison_ids)
        return result

    def project(self, events: Iterable[Event]) -> ProjectionResult:
        """Write `events` in one transaction of their own (blocking: call it in a thread)."""
        with write_session(self.engine) as session:
            return self.apply(session, events)


def _uuids(rows: list[dict[str, object]], column: str) -> set[uuid.UUID]:
    return {value for row in rows if isinstance(value := row[column], uuid.UUID)}
