"""Live: the newest predictions as they reach the bus, updated in place.

A fragment reruns every `SPAMOPS_DASHBOARD__REFRESH_S` and asks the API only for entries
newer than the last one it saw, so the page costs one small read per tick whatever the
traffic, and only the table redraws (no full page reload). Each row links to the Audit page.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import frames, session, ui
from dashboard.client import ApiClient

__all__ = ["merge", "render"]

_ROWS = "live_rows"
_CURSOR = "live_cursor"


def merge(seen: list[dict[str, Any]], new: list[dict[str, Any]], keep: int) -> list[dict[str, Any]]:
    """Newest first, without duplicates (a retried read may repeat entries), `keep` long."""
    known = {p["entry_id"] for p in seen}
    fresh = [p for p in new if p["entry_id"] not in known]
    return (fresh + seen)[:keep]


def _poll(api: ApiClient, keep: int) -> list[dict[str, Any]]:
    state = st.session_state
    page = api.latest_predictions(keep, after=state.get(_CURSOR))
    rows = merge(state.get(_ROWS, []), page["predictions"], keep)
    state[_ROWS] = rows
    state[_CURSOR] = page["newest_entry_id"]
    return rows


def _table(rows: list[dict[str, Any]]) -> None:
    frame = frames.predictions_frame(rows)
    spam = int((frame["label"] == "spam").sum())
    cols = st.columns(4)
    cols[0].metric("On screen", len(frame))
    cols[1].metric("Spam among them", f"{spam} ({ui.percent(spam / len(frame))})")
    cols[2].metric("Median latency", f"{frame['latency_ms'].median():.2f} ms")
    cols[3].metric("Newest", ui.short_time(rows[0]["occurred_at"])[11:19])
    st.dataframe(
        frame,
        hide_index=True,
        height=min(35 * (len(frame) + 1) + 3, 1200),
        column_order=[c for c in frame.columns if c != "message"] + ["message"],
        column_config={
            "time": st.column_config.DatetimeColumn("time (UTC)", format="HH:mm:ss.SSS"),
            "spam_probability": st.column_config.ProgressColumn(
                "P(spam)", min_value=0.0, max_value=1.0, format="%.3f"
            ),
            "latency_ms": st.column_config.NumberColumn("latency", format="%.2f ms"),
            "message": st.column_config.TextColumn("message", width="large"),
            "audit": st.column_config.LinkColumn("audit", display_text="explain"),
        },
    )


def render(api: ApiClient) -> None:
    st.title("Live")
    config = session.settings()
    follow = st.toggle("Follow", value=True, help="Pause to read without rows moving.")
    st.caption(
        f"The newest {config.live_rows} predictions on the bus, "
        + (f"updated every {config.refresh_s:g} s." if follow else "paused.")
    )

    @st.fragment(run_every=config.refresh_s if follow else None)
    def tail() -> None:
        with ui.problems():
            rows = _poll(api, config.live_rows)
            if not rows:
                ui.empty(
                    "No predictions on the bus yet — send traffic to POST /predict (or run "
                    "`spamops simulate`); they appear here as they are made."
                )
                return
            _table(rows)

    tail()


if __name__ == "__main__":
    ui.run_page(render)
