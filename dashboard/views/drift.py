"""Drift: every statistic over time against its calibrated threshold, and for any window
the tokens that separate it from the reference and the messages least like it.

The statistics and thresholds are the drift consumer's own (`drift.measured`); the page
draws them, it never recomputes them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, frames, ui
from dashboard.client import ApiClient

__all__ = ["render"]


def _verdict(latest: dict[str, Any]) -> None:
    drifted = [s["name"] for s in latest["statistics"] if s["drifted"]]
    when = ui.short_time(latest["ended_at"])
    model = ui.version(latest["model"])
    if latest["drifted"]:
        st.error(
            f"**Drift** in the latest window ({when}, model {model}, {latest['n']} messages): "
            f"score {latest['score']:.2f}; over threshold: {', '.join(drifted) or 'the score'}.",
            icon=":material/trending_up:",
        )
    else:
        st.success(
            f"**No drift** in the latest window ({when}, model {model}, {latest['n']} "
            f"messages): score {latest['score']:.2f}.",
            icon=":material/check_circle:",
        )


def _statistics(frame: pd.DataFrame) -> None:
    st.subheader("Statistics per window")
    st.caption("Each statistic's value (blue), its calibrated threshold (dashed); red: drifted.")
    names = list(dict.fromkeys(frame["statistic"]))
    columns = st.columns(2)
    for i, name in enumerate(names):
        one = frame[frame["statistic"] == name]
        columns[i % 2].altair_chart(charts.statistic_chart(one, name), width="stretch")


def _label(window: dict[str, Any]) -> str:
    verdict = "drifted" if window["drifted"] else "ok"
    return (
        f"{ui.short_time(window['ended_at'])} · {ui.version(window['model'])} · "
        f"score {window['score']:.2f} · {verdict}"
    )


def _window(window: dict[str, Any]) -> None:
    table = pd.DataFrame(window["statistics"])
    ui.table(
        table.reindex(columns=["name", "value", "threshold", "drifted", "p_value"]).rename(
            columns={"name": "statistic", "p_value": "p"}
        ),
        {"value": ".4f", "threshold": ".4f", "p": ".4g"},
    )
    tokens = frames.tokens_frame(window)
    left, right = st.columns([3, 2])
    with left:
        if tokens.empty:
            ui.empty("This window has no drifting tokens to show.")
        else:
            st.altair_chart(charts.tokens_chart(tokens), width="stretch")
    with right:
        st.markdown("**Messages least like the reference**")
        examples = window.get("examples") or []
        if not examples:
            st.caption("None recorded (the API redacts texts, or the window was clean).")
        for text in examples:
            st.text(text)


def render(api: ApiClient) -> None:
    st.title("Drift")
    windows = api.drift()
    if not windows:
        ui.empty(
            "No drift windows yet — send traffic: a window is measured every "
            "SPAMOPS_MONITORING__DRIFT_WINDOW predictions (default 500) by the drift consumer."
        )
        return
    newest_first = list(reversed(windows))
    _verdict(newest_first[0])
    drifted = sum(w["drifted"] for w in windows)
    st.caption(f"{len(windows)} windows, {drifted} drifted, oldest to newest below.")
    _statistics(frames.drift_statistics_frame(windows))
    st.subheader("Tokens and examples")
    first_drifted = next((i for i, w in enumerate(newest_first) if w["drifted"]), 0)
    chosen = st.selectbox(
        "Window",
        range(len(newest_first)),
        index=first_drifted,
        format_func=lambda i: _label(newest_first[i]),
        help="The newest drifted window is selected first.",
    )
    _window(newest_first[chosen if chosen is not None else 0])


if __name__ == "__main__":
    ui.run_page(render)
