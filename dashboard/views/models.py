"""Models: registered versions and their metrics; then, one tab each, champion vs
challenger on the same evaluation set (with McNemar's test), every alias move, the
retraining timeline, and quality on labelled live traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import charts, frames, ui
from dashboard.client import ApiClient

__all__ = ["render"]


def _versions(models: list[dict[str, Any]]) -> None:
    st.subheader("Versions")
    if not models:
        ui.empty("No model registered yet — train one with `spamops train`.")
        return
    aliases = {a: m["version"] for m in models for a in m.get("aliases", [])}
    cols = st.columns(3)
    cols[0].metric("Champion", f"v{aliases['champion']}" if "champion" in aliases else "none")
    cols[1].metric("Challenger", f"v{aliases['challenger']}" if "challenger" in aliases else "none")
    cols[2].metric("Versions", len(models))
    versions = frames.versions_frame(models)
    versions["version"] = "v" + versions["version"].astype(str)
    ui.table(
        versions.rename(columns={"created_at": "created (UTC)"}),
        dict.fromkeys(frames.KEY_METRICS, ".4f"),
    )


def _comparison(comparison: dict[str, Any] | None) -> None:
    if comparison is None:
        ui.empty(
            "No comparison yet — one follows every retraining (`POST /retrain`, or the "
            "agent's decision), scoring both models on the same evaluation set."
        )
        return
    champion, challenger = comparison["champion"], comparison["challenger"]
    mcnemar = comparison["mcnemar"]
    st.caption(
        f"Compared {ui.short_time(comparison['compared_at'])}: champion "
        f"{ui.version(champion)} vs challenger {ui.version(challenger)} on "
        + ", ".join(f"{s['name']} ({s['n']:,})" for s in comparison["evaluation_sets"])
    )
    cols = st.columns(4)
    cols[0].metric("Decision", comparison["decision"])
    cols[1].metric(
        "McNemar p", ui.number(mcnemar["p_value"], 4), help="Exact test on the paired errors."
    )
    cols[2].metric("Only champion right", mcnemar["champion_only_correct"])
    cols[3].metric("Only challenger right", mcnemar["challenger_only_correct"])
    frame = frames.comparison_frame(comparison)
    left, right = st.columns([2, 3])
    with left:
        ui.table(
            frame.rename(
                columns={
                    "champion": f"champion {ui.version(champion)}",
                    "challenger": f"challenger {ui.version(challenger)}",
                    "delta": "Δ",
                }
            ),
            {
                f"champion {ui.version(champion)}": ".4f",
                f"challenger {ui.version(challenger)}": ".4f",
                "Δ": "+.4f",
            },
        )
    right.altair_chart(charts.metric_comparison_chart(frame), width="stretch")
    naive = comparison.get("naive_decision")
    st.markdown(
        "**Why:** "
        + "; ".join(comparison.get("reasons") or ["—"])
        + (f"  \n(accuracy alone would have said *{naive}*)" if naive else "")
    )


def _aliases(history: list[dict[str, Any]]) -> None:
    if not history:
        ui.empty("No promotion or rollback yet — `POST /models/{version}/promote` makes one.")
        return
    frame = frames.alias_frame(history)
    st.altair_chart(
        charts.timeline_chart(
            frame, lane="alias", colour="change", label="to", title="Alias moves (to version)"
        ),
        width="stretch",
    )
    ui.table(frame)


def _retraining(runs: list[dict[str, Any]]) -> None:
    if not runs:
        ui.empty(
            "No retraining yet — the scheduler requests one weekly, the agent on drift, "
            "or `POST /retrain` now."
        )
        return
    frame = frames.retraining_frame(runs)
    st.altair_chart(
        charts.timeline_chart(
            frame, lane="reason", colour="status", label="challenger", title="Retraining runs"
        ),
        width="stretch",
    )
    ui.table(frame.rename(columns={"mcnemar_p": "McNemar p"}), {"McNemar p": ".4f"})


def _performance(windows: list[dict[str, Any]]) -> None:
    if not windows:
        ui.empty(
            "No labelled windows yet — send labels to POST /feedback; the performance "
            "consumer measures every SPAMOPS_MONITORING__PERFORMANCE_WINDOW labels."
        )
        return
    st.altair_chart(charts.performance_chart(frames.performance_frame(windows)), width="stretch")


def render(api: ApiClient) -> None:
    st.title("Models")
    _versions(ui.registry_versions(api))
    # Only the open tab is drawn (and only its route called): the page paints its top at
    # once instead of after four charts, and the tab is in the URL (`?section=...`).
    sections: dict[str, Callable[[], None]] = {
        "Champion vs challenger": lambda: _comparison(api.comparison()),
        "Alias history": lambda: _aliases(api.alias_history()),
        "Retraining": lambda: _retraining(api.retraining_history()),
        "Live quality": lambda: _performance(api.performance()),
    }
    tabs = st.tabs(list(sections), key="section", on_change="rerun", bind="query-params")
    for tab, draw in zip(tabs, sections.values(), strict=True):
        with tab:
            if tab.open is not False:
                draw()


if __name__ == "__main__":
    ui.run_page(render)
