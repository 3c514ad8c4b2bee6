"""A/B tests: each test's set-up, the latest figures per arm with the sequential test's
p-value, and for a concluded test the winner with the effect and its confidence interval.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, frames, ui
from dashboard.client import ApiClient

__all__ = ["render"]


def _title(test: dict[str, Any]) -> str:
    start = test.get("start") or {}
    champion, challenger = ui.version(start.get("champion")), ui.version(start.get("challenger"))
    status = test["status"]
    if status == "concluded":
        status = f"concluded · winner {test['conclusion']['winner']}"
    return f"{champion} vs {challenger} · {status}"


def _setup(start: dict[str, Any] | None, started_at: str | None) -> None:
    if start is None:
        st.caption("Its start event has not been seen (older than the stream's retention).")
        return
    st.caption(
        f"Started {ui.short_time(started_at)} by {start['started_by']} · mode {start['mode']} · "
        f"{ui.percent(start['split'], 0)} of traffic to the challenger, routed by "
        f"{start['routing_key']} · at least {start['min_samples']:,} samples · minimum effect "
        f"{ui.percent(start['min_effect'])} · α {start['alpha']}"
    )


def _arms(arms: list[dict[str, Any]]) -> None:
    frame = frames.arms_frame(arms)
    left, right = st.columns([3, 2])
    with left:
        ui.table(
            frame.drop(columns=["variant"]),
            {
                "n": ",",
                "errors": ",",
                "error_rate": ".2%",
                "spam_recall": ".3f",
                "ham_fpr": ".4f",
                "latency_p50_ms": ".2f",
            },
        )
    right.altair_chart(charts.arms_chart(frame), width="stretch")


def _test(test: dict[str, Any]) -> None:
    with st.container(border=True):
        st.markdown(f"**{_title(test)}**  \n`{test['abtest_id']}`")
        _setup(test.get("start"), test.get("started_at"))
        conclusion, latest = test.get("conclusion"), test.get("latest")
        if conclusion is not None:
            cols = st.columns(4)
            cols[0].metric("Winner", conclusion["winner"])
            cols[1].metric("Reason", conclusion["reason"])
            cols[2].metric(
                "Effect (challenger − champion)",
                ui.percent(conclusion["effect"], 2),
                help=f"95% CI {ui.percent(conclusion['ci_low'], 2)} to "
                f"{ui.percent(conclusion['ci_high'], 2)} in error rate",
            )
            cols[3].metric("p-value", ui.number(conclusion["p_value"], 4))
            if conclusion["arms"]:
                _arms(conclusion["arms"])
        elif latest is not None:
            left, right = st.columns(2)
            left.metric("p-value (always valid)", ui.number(latest["p_value"], 4))
            right.metric("Planned samples", f"{latest['planned_samples']:,}")
            _arms(latest["arms"])
        else:
            st.caption("No figures yet: they come with the first labelled predictions.")


def render(api: ApiClient) -> None:
    st.title("A/B tests")
    tests = api.abtests()
    if not tests:
        ui.empty(
            "No A/B tests yet — the agent starts one when a challenger is worth trying on "
            "live traffic (decision start_abtest); its figures appear here as labels arrive."
        )
        return
    running = sum(t["status"] == "running" for t in tests)
    st.caption(f"{len(tests)} tests, {running} running; newest first.")
    for test in tests:
        _test(test)


if __name__ == "__main__":
    ui.run_page(render)
