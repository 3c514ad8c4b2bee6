"""What the fault tests count: rows of the SQL store, the audit log, the stream totals.

"Published ids = audit rows" is the ground truth of the suite: the audit consumer reads
every stream and logs every event id exactly once, so comparing the ids on the streams
with the ids in `audit_log` shows loss (an id missing) and duplication (a row count above
the number of distinct ids) in one step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text

from schemas.catalogue import StreamName
from store.audit.verify import verify_database
from store.engine import engine_for_url
from tests.faults.stack import Stack

__all__ = ["AuditView", "audit_view", "open_store", "rows"]


@contextmanager
def open_store(stack: Stack) -> Iterator[Engine]:
    engine = engine_for_url(stack.env["SPAMOPS_DATABASE_URL"])
    try:
        yield engine
    finally:
        engine.dispose()


def rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


@dataclass(frozen=True)
class AuditView:
    ids: Counter[str]
    """Rows per event id (every value must be 1)."""
    types: Counter[str]
    """Rows per event type."""
    verified: bool
    checked: int

    @property
    def duplicated(self) -> list[str]:
        return [i for i, n in self.ids.items() if n > 1]


def audit_view(engine: Engine) -> AuditView:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT event_id, type FROM audit_log")).all()
    ids = Counter(str(r[0]).replace("-", "") for r in found)
    result = verify_database(engine)
    return AuditView(ids, Counter(str(r[1]) for r in found), result.ok, result.checked)


def stream_ids(stack: Stack, streams: tuple[StreamName, ...] = tuple(StreamName)) -> set[str]:
    """Every event id on the given streams (dashes removed, as SQLite stores UUIDs)."""
    return {e.id.hex for s in streams for e in stack.events(s)}
