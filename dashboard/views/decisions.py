"""Decisions: what the agent decided, with which policy and confidence, and why.

Each decision shows its rationale, the guard that blocked it (if any) and the events it
was based on, so an operator can follow a retraining or a rollback back to its cause.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, frames, ui
from dashboard.client import ApiClient

__all__ = ["render"]

ACTIONS = ("retrain", "wait", "alert", "promote", "rollback", "start_abtest")
DETAILED = 20  # decisions shown with their full rationale and inputs; the rest: the table


def _detail(decision: dict[str, Any]) -> None:
    policy = decision["policy"]
    if decision.get("llm_model"):
        policy += f" ({decision['llm_model']}, prompt {decision.get('prompt_version') or '?'})"
    title = (
        f"{ui.short_time(decision['occurred_at'])} · **{decision['action']}** · {policy} · "
        f"confidence {decision['confidence']:.2f}"
    )
    with st.expander(title):
        st.markdown(decision["rationale"] or "_no rationale recorded_")
        if decision.get("blocked_by"):
            st.warning(f"Blocked by the guard: {decision['blocked_by']}", icon=":material/block:")
        if decision.get("fell_back"):
            st.caption(f"The LLM failed; the rules decided ({decision.get('fallback_reason')}).")
        if decision.get("target_version"):
            st.caption(f"Target model: v{decision['target_version']}")
        inputs = decision.get("input_event_ids") or []
        st.caption("Inputs: " + (", ".join(f"`{i}`" for i in inputs) or "none"))
        st.caption(f"Event `{decision['event_id']}` from {decision['source']}")


def _latest(decision: dict[str, Any]) -> None:
    """The newest decision, rationale and all, where the eye lands first."""
    blocked = f" (blocked by {decision['blocked_by']})" if decision.get("blocked_by") else ""
    st.info(
        f"**Latest: {decision['action']}**{blocked}, {ui.short_time(decision['occurred_at'])}, "
        f"{decision['policy']} policy, confidence {decision['confidence']:.2f}  \n"
        f"{decision['rationale']}",
        icon=":material/gavel:",
    )


def render(api: ApiClient) -> None:
    st.title("Decisions")
    action = st.selectbox("Action", ["all", *ACTIONS], help="Show only this action.")
    decisions = api.decisions(action=None if action in (None, "all") else action)
    if not decisions:
        ui.empty(
            "No decisions yet — the agent decides on drift, performance, model and A/B test "
            "events (run it with `spamops consume agent`)."
            if action == "all"
            else f"No '{action}' decisions."
        )
        return
    _latest(decisions[0])
    frame = frames.decisions_frame(decisions)
    left, right = st.columns([1, 3])
    left.altair_chart(
        charts.counts_chart(
            frames.counts_frame(frame, "action"), category="action", title="Decisions per action"
        ),
        width="stretch",
    )
    right.dataframe(
        frame,
        hide_index=True,
        column_config={
            "time": st.column_config.DatetimeColumn("time (UTC)"),
            "confidence": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "rationale": st.column_config.TextColumn(width="large"),
        },
    )
    st.subheader("Rationale")
    for decision in decisions[:DETAILED]:
        _detail(decision)


if __name__ == "__main__":
    ui.run_page(render)
