"""The derived columns of a retraining run: its promotion and its status.

A run's promotion is the first `model.promoted` to `champion` that names the run's
comparison (`comparison_event_id`); either may be projected first, so both are looked up
again whenever a run or a promotion is written. The status is a pure function of which
column groups are present, so it is the same after any arrival order and after a replay.

On PostgreSQL, projector replicas write concurrently; the refresh first takes a
transaction-scoped advisory lock, so of two transactions writing a run and its promotion,
the second to refresh sees what the first committed. (SQLite writers are serial anyway.)
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, case, or_, select, text, update
from sqlalchemy.orm import Session

from store.tables import AliasChangeRow, RetrainingRunRow, RunStatus

__all__ = ["refresh_runs", "status_expression"]

_PG_LOCK_KEY = 0x5350_414D_5255  # "SPAMRU": serialises refreshes of retraining runs


def status_expression() -> ColumnElement[str]:
    """promoted > kept > compared > failed > trained > requested, from the row's groups."""
    runs = RetrainingRunRow
    return case(
        (runs.promoted_event_id.is_not(None), RunStatus.PROMOTED),
        (and_(runs.compared_event_id.is_not(None), runs.decision == "keep"), RunStatus.KEPT),
        (runs.compared_event_id.is_not(None), RunStatus.COMPARED),
        (runs.failed_event_id.is_not(None), RunStatus.FAILED),
        (runs.trained_event_id.is_not(None), RunStatus.TRAINED),
        else_=RunStatus.REQUESTED,
    )


def refresh_runs(
    session: Session,
    request_ids: Collection[uuid.UUID],
    comparison_ids: Collection[uuid.UUID],
) -> None:
    """Recompute promotion and status of the runs with these ids or comparisons."""
    runs = RetrainingRunRow
    scope: list[ColumnElement[bool]] = []
    if request_ids:
        scope.append(runs.request_id.in_(sorted(request_ids)))
    if comparison_ids:
        scope.append(runs.compared_event_id.in_(sorted(comparison_ids)))
    if not scope:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    aliases = AliasChangeRow
    first = (
        select(aliases.event_id, aliases.occurred_at)
        .where(
            aliases.comparison_event_id == runs.compared_event_id,
            aliases.kind == "promoted",
            aliases.alias == "champion",
        )
        .order_by(aliases.event_id)
        .limit(1)
    )
    plain = {"synchronize_session": False}  # no ORM objects to keep in step
    session.execute(
        update(runs)
        .where(or_(*scope))
        .values(
            promoted_event_id=first.with_only_columns(aliases.event_id).scalar_subquery(),
            promoted_at=first.with_only_columns(aliases.occurred_at).scalar_subquery(),
        ),
        execution_options=plain,
    )
    session.execute(
        update(runs).where(or_(*scope)).values(status=status_expression()),
        execution_options=plain,
    )
