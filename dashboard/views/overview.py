"""Overview: the last hour's traffic and spam rate, champion and challenger, bus health and
the latest drift verdict, on one screen. It refreshes itself (a fragment), since this is
the page an operator leaves open.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, frames, session, ui
from dashboard.client import ApiClient

__all__ = ["render"]

WINDOW_MINUTES = 60
REFRESH_FACTOR = 5  # the overview refreshes this many times less often than the Live page


def _aliases(models: list[dict[str, Any]]) -> dict[str, int]:
    return {alias: m["version"] for m in models for alias in m.get("aliases", [])}


def _headline(api: ApiClient, traffic: dict[str, Any]) -> None:
    ready = api.ready()
    aliases = _aliases(ui.registry_versions(api))
    drift = api.latest_drift()
    cols = st.columns(6)
    cols[0].metric("Predictions", f"{traffic['predictions']:,}", help="In the last 60 minutes.")
    cols[1].metric("Spam rate", ui.percent(traffic["spam_rate"]), help="In the last 60 minutes.")
    champion = aliases.get("champion")
    serving = (ready.get("model") or {}).get("version")
    cols[2].metric(
        "Champion",
        f"v{champion}" if champion else "none",
        help=f"The API serves v{serving}." if serving else "The API serves no model yet.",
    )
    challenger = aliases.get("challenger")
    cols[3].metric("Challenger", f"v{challenger}" if challenger else "none")
    if drift is None:
        cols[4].metric("Latest drift", "no windows", help="No drift window measured yet.")
    else:
        verdict = "drifted" if drift["drifted"] else "no drift"
        cols[4].metric(
            "Latest drift",
            verdict,
            delta=f"score {drift['score']:.2f}",
            delta_color="inverse" if drift["drifted"] else "off",
            help=f"Window ended {ui.short_time(drift['ended_at'])}, model v"
            f"{drift['model']['version']}.",
        )
    cols[5].metric(
        "Bus",
        {"connected": "ok", "spooling": "spooling"}.get(ready.get("bus", ""), "?"),
        help=f"queued {ready.get('queued_events', 0)}, spooled {ready.get('spooled_events', 0)}, "
        f"dropped {ready.get('dropped_events', 0)} events on this API replica.",
    )
    if ready.get("status") == "unavailable":
        st.error(
            "No model is loaded: /predict answers 503. Train and register one with "
            "`spamops train`; every API replica loads it without a restart.",
            icon=":material/error:",
        )
    elif ready.get("status") != "ok":
        st.warning(
            f"The API is {ready.get('status')}: model from {ready.get('model_source')}, "
            f"bus {ready.get('bus')}. /predict still answers while degraded.",
            icon=":material/warning:",
        )


def _traffic(traffic: dict[str, Any]) -> None:
    if traffic["predictions"] == 0:
        ui.empty(
            "No predictions in the last hour — send traffic to POST /predict "
            "(or run `spamops simulate`) and it shows here within seconds."
        )
        return
    frame = frames.traffic_frame(traffic)
    left, right = st.columns(2)
    left.altair_chart(charts.traffic_chart(frame), width="stretch")
    right.altair_chart(charts.spam_rate_chart(frame), width="stretch")
    st.caption(
        f"{traffic['spam']:,} of {traffic['predictions']:,} predictions labelled spam; "
        f"{traffic['challenger']:,} answered by a challenger; mean latency "
        f"{ui.number(traffic['mean_latency_ms'], 2)} ms."
    )


def _bus(api: ApiClient) -> None:
    st.subheader("Bus")
    frame = frames.bus_frame(api.bus())
    if frame["group"].eq("—").all():
        ui.empty(
            "No consumer group reads the streams yet — start the consumers "
            "(`spamops consume projector drift performance agent ...`)."
        )
    ui.table(
        frame.rename(columns={"length": "entries"}),
        {"entries": ",.0f", "pending": ",.0f", "lag": ",.0f"},
    )
    st.caption("pending: delivered, not yet acknowledged; lag: not yet delivered to the group.")


def render(api: ApiClient) -> None:
    st.title("Overview")
    interval = session.settings().refresh_s * REFRESH_FACTOR

    @st.fragment(run_every=interval)
    def body() -> None:
        with ui.problems():
            traffic = api.traffic(WINDOW_MINUTES)
            _headline(api, traffic)
            _traffic(traffic)
            _bus(api)
            st.caption(f"Last {WINDOW_MINUTES} minutes, UTC; refreshes every {interval:g} s.")

    body()


if __name__ == "__main__":
    ui.run_page(render)
