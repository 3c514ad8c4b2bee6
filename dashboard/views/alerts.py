"""Alerts: what was raised, how severe, and whether each channel delivered it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, frames, ui
from dashboard.client import ApiClient

__all__ = ["render"]

SEVERITIES = ("critical", "warning", "info")
DETAILED = 20
_ICONS = {
    "critical": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
}


def _detail(alert: dict[str, Any]) -> None:
    title = f"{ui.short_time(alert['occurred_at'])} · {alert['severity']} · {alert['title']}"
    with st.expander(title, icon=_ICONS.get(alert["severity"])):
        if alert.get("body"):
            st.markdown(alert["body"])
        deliveries = alert.get("deliveries") or []
        if not deliveries:
            st.caption("Not delivered to any channel (none configured, or not yet).")
        for d in deliveries:
            outcome = "delivered" if d["ok"] else f"failed: {d.get('error') or 'unknown error'}"
            st.caption(
                f"{d['channel']}: {outcome} after {d['attempts']} attempt(s), "
                f"{d['latency_ms']:.0f} ms"
            )
        labels = alert.get("labels") or {}
        if labels:
            st.caption(" · ".join(f"{k}={v}" for k, v in sorted(labels.items())))
        st.caption(f"dedupe key `{alert['dedupe_key']}` · event `{alert['event_id']}`")


def _latest(alert: dict[str, Any]) -> None:
    """The newest alert, where the eye lands first, coloured by its severity."""
    show = {"critical": st.error, "warning": st.warning}.get(alert["severity"], st.info)
    show(
        f"**Latest: {alert['title']}** ({alert['severity']}, "
        f"{ui.short_time(alert['occurred_at'])}, delivery {alert['delivery_status']})",
        icon=_ICONS.get(alert["severity"]),
    )


def render(api: ApiClient) -> None:
    st.title("Alerts")
    severity = st.segmented_control("Severity", ["all", *SEVERITIES], default="all")
    alerts = api.alerts(severity=None if severity in (None, "all") else severity)
    if not alerts:
        ui.empty(
            "No alerts raised — good. Alerts reach Slack, e-mail or a webhook once "
            "SPAMOPS_ALERTS__* is configured (docs/alerts.md)."
        )
        return
    _latest(alerts[0])
    frame = frames.alerts_frame(alerts)
    failed = int((frame["delivery"] == "failed").sum())
    cols = st.columns(4)
    for col, level in zip(cols, SEVERITIES, strict=False):
        col.metric(level.capitalize(), int((frame["severity"] == level).sum()))
    cols[3].metric("Delivery failed", failed)
    left, right = st.columns([1, 3])
    left.altair_chart(
        charts.counts_chart(
            frames.counts_frame(frame, "severity"), category="severity", title="Per severity"
        ),
        width="stretch",
    )
    right.dataframe(
        frame, hide_index=True, column_config={"time": st.column_config.DatetimeColumn("time")}
    )
    st.subheader("Details")
    for alert in alerts[:DETAILED]:
        _detail(alert)


if __name__ == "__main__":
    ui.run_page(render)
