"""Event → rows: what each projected event type writes (pure functions, no database)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.catalogue import STREAM_OF_TYPE, StreamName
from schemas.events import Event
from store.rows.lifecycle import (
    compared_rows,
    promoted_rows,
    retrain_rows,
    rolled_back_rows,
    trained_rows,
)
from store.rows.operations import (
    FAILED_RUN_LABEL,
    abtest_concluded_rows,
    abtest_started_rows,
    abtest_updated_rows,
    alert_rows,
    decision_rows,
    delivery_rows,
)
from store.rows.traffic import drift_rows, feedback_rows, performance_rows, prediction_rows
from store.targets import Write

__all__ = ["FAILED_RUN_LABEL", "PROJECTED_STREAMS", "PROJECTED_TYPES", "rows_of"]

_BUILDERS: dict[str, Callable[[Any], list[Write]]] = {
    "prediction.made": prediction_rows,
    "feedback.received": feedback_rows,
    "drift.measured": drift_rows,
    "performance.measured": performance_rows,
    "retrain.requested": retrain_rows,
    "decision.made": decision_rows,
    "model.trained": trained_rows,
    "model.compared": compared_rows,
    "model.promoted": promoted_rows,
    "model.rolled_back": rolled_back_rows,
    "abtest.started": abtest_started_rows,
    "abtest.updated": abtest_updated_rows,
    "abtest.concluded": abtest_concluded_rows,
    "alert.raised": alert_rows,
    "alert.delivered": delivery_rows,
}

PROJECTED_TYPES: frozenset[str] = frozenset(_BUILDERS)
"""Every event type the store projects: all but `access.recorded` and `event.deadlettered`."""

PROJECTED_STREAMS: tuple[StreamName, ...] = tuple(
    s for s in StreamName if any(STREAM_OF_TYPE[t] is s for t in PROJECTED_TYPES)
)
"""The streams holding them: every stream but `access` and `deadletter`.

`access` is high-volume and only the audit log keeps it; `deadletter` holds copies of
entries that are still in their own streams (a rebuild reads them there).
"""


def rows_of(event: Event) -> list[Write]:
    """The writes of one event; a type the store does not project writes nothing."""
    builder = _BUILDERS.get(event.type)
    return builder(event) if builder is not None else []
