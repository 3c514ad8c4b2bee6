"""Read queries of the store: typed functions of a `Session`, returning `store.records`.

Call them in a thread from async code (`asyncio.to_thread`), with a session from
`store.read_session(engine)`.
"""

from store.queries.lifecycle import (
    alias_history,
    current_aliases,
    latest_comparison,
    model_versions,
    retraining_history,
    retraining_run,
)
from store.queries.monitoring import drift_windows, latest_drift_window, performance_windows
from store.queries.operations import abtest, abtests, alerts, decisions
from store.queries.traffic import labelled_messages, prediction, predictions_of_text

__all__ = [
    "abtest",
    "abtests",
    "alerts",
    "alias_history",
    "current_aliases",
    "decisions",
    "drift_windows",
    "labelled_messages",
    "latest_comparison",
    "latest_drift_window",
    "model_versions",
    "performance_windows",
    "prediction",
    "predictions_of_text",
    "retraining_history",
    "retraining_run",
]
