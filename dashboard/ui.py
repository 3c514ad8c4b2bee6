"""What every page shares: running it against the API, showing failures, formatting figures.

A page is a function of an `ApiClient`. `run_page` gives it the session's client and turns
any `DashboardError` into a message that says what to do, so an API that is down, a missing
token or an expired sign-in never shows as a traceback. `problems()` does the same inside a
fragment, which reruns on its own, outside the page's `run_page`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.client import (
    ApiClient,
    ApiStatusError,
    ApiUnreachableError,
    DashboardError,
    NotAuthorisedError,
)

__all__ = [
    "empty",
    "number",
    "parse_time",
    "percent",
    "problems",
    "registry_versions",
    "run_page",
    "short_time",
    "table",
    "version",
]


@contextlib.contextmanager
def problems() -> Iterator[None]:
    """Show a failed API call as an actionable message instead of a traceback."""
    try:
        yield
    except NotAuthorisedError as exc:
        message = session.auth_message(exc)  # before noting it: that forgets a sign-in
        session.note_auth_problem(exc)
        st.error(message, icon=":material/lock:")
    except ApiUnreachableError as exc:
        st.error(str(exc), icon=":material/cloud_off:")
    except DashboardError as exc:
        st.error(str(exc), icon=":material/error:")


def registry_versions(api: ApiClient) -> list[dict[str, Any]]:
    """`/models`, or none with a warning when the registry (MLflow) cannot answer: the rest
    of a page reads the store and the bus, and is still worth showing."""
    try:
        versions: list[dict[str, Any]] = api.models()
    except ApiStatusError as exc:
        st.warning(f"Model versions unavailable: {exc}", icon=":material/warning:")
        return []
    return versions


def run_page(render: Callable[[ApiClient], None]) -> None:
    with problems():
        render(session.client())


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> None:
    """A small table as static HTML (`st.table`): it paints at once, where the interactive
    grid of `st.dataframe` costs the browser a canvas and a script chunk. Every cell becomes
    text: `formats` maps a column to a format spec (`.4f`, `+.4f`, `,`, `.2%`); times show
    as UTC, booleans as yes/no, missing values as `—`."""
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        spec = (formats or {}).get(column)
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            shown[column] = values.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("—")
        else:
            shown[column] = [_cell(v, spec) for v in values]
    st.table(shown, hide_index=True)


def _cell(value: Any, spec: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value, spec) if spec else str(value)


def empty(message: str) -> None:
    """An empty state: what is missing, and what to do to see something here."""
    st.info(message, icon=":material/hourglass_empty:")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short_time(value: Any) -> str:
    """`2026-11-26 12:00:05 UTC`, or `—` when there is no time."""
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:.{digits}f} %"


def number(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def version(ref: dict[str, Any] | None) -> str:
    """`v3` for a model reference, `—` for none."""
    return f"v{ref['version']}" if ref and ref.get("version") else "—"
