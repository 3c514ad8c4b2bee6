"""Altair charts of the dashboard, as pure functions of DataFrames (no Streamlit here).

Times are UTC on every axis (a `utc` scale). Colours carry one meaning each across pages:
red is drift or failure, the champion is blue and the challenger orange.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = [
    "arms_chart",
    "counts_chart",
    "metric_comparison_chart",
    "performance_chart",
    "spam_rate_chart",
    "statistic_chart",
    "timeline_chart",
    "tokens_chart",
    "traffic_chart",
]


def _arms() -> alt.Scale:
    return alt.Scale(domain=["champion", "challenger"], range=["#1f77b4", "#ff7f0e"])


def _verdicts() -> alt.Scale:
    return alt.Scale(domain=[False, True], range=["#2ca02c", "#d62728"])


def _utc() -> alt.Scale:
    """Times are naive UTC (see `frames`): shown as UTC whatever the browser's zone."""
    return alt.Scale(type="utc")


def _minutes() -> alt.Axis:
    return alt.Axis(format="%H:%M", title=None, labelAngle=0)


def _days() -> alt.Axis:
    return alt.Axis(format="%d %b %H:%M", labelAngle=0)


def traffic_chart(frame: pd.DataFrame) -> alt.Chart:
    """Predictions per minute, stacked by the arm that answered them."""
    long = frame.melt(
        id_vars=["minute"], value_vars=["champion", "challenger"], var_name="arm", value_name="n"
    )
    chart: alt.Chart = (
        alt.Chart(long, title="Predictions per minute")
        .mark_bar()
        .encode(
            x=alt.X("minute:T", axis=_minutes(), scale=_utc()),
            y=alt.Y("n:Q", title="predictions", stack=True),
            color=alt.Color("arm:N", scale=_arms(), legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("minute:T", format="%H:%M", formatType="utc"), "arm:N", "n:Q"],
        )
        .properties(height=220)
    )
    return chart


def spam_rate_chart(frame: pd.DataFrame) -> alt.Chart:
    """Share of predictions labelled spam, per minute (gaps where there was no traffic)."""
    chart: alt.Chart = (
        alt.Chart(frame.dropna(subset=["spam_rate"]), title="Spam rate per minute")
        .mark_line(point=True, color="#d62728")
        .encode(
            x=alt.X("minute:T", axis=_minutes(), scale=_utc()),
            y=alt.Y("spam_rate:Q", title="spam rate", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("minute:T", format="%H:%M", formatType="utc"),
                alt.Tooltip("spam_rate:Q", format=".1%"),
                "predictions:Q",
            ],
        )
        .properties(height=220)
    )
    return chart


def statistic_chart(frame: pd.DataFrame, name: str) -> alt.LayerChart:
    """One drift statistic per window, its calibrated threshold dashed, drifted points red."""
    base = alt.Chart(frame, title=name).encode(
        x=alt.X("ended_at:T", title=None, axis=_days(), scale=_utc())
    )
    value = base.mark_line(color="#1f77b4").encode(y=alt.Y("value:Q", title=None))
    points = base.mark_point(filled=True, size=60).encode(
        y="value:Q",
        color=alt.Color("drifted:N", scale=_verdicts(), legend=None),
        tooltip=[
            alt.Tooltip(
                "ended_at:T", title="window end", format="%Y-%m-%d %H:%M", formatType="utc"
            ),
            alt.Tooltip("value:Q", format=".4f"),
            alt.Tooltip("threshold:Q", format=".4f"),
            "drifted:N",
        ],
    )
    threshold = base.mark_line(color="#7f7f7f", strokeDash=[6, 4]).encode(y="threshold:Q")
    return alt.layer(value, threshold, points).properties(height=180)


def tokens_chart(frame: pd.DataFrame) -> alt.Chart:
    """Share of each top drifting token in the reference and in the window."""
    long = frame.melt(
        id_vars=["token"],
        value_vars=["reference_share", "window_share"],
        var_name="where",
        value_name="share",
    )
    long["where"] = long["where"].str.removesuffix("_share")
    chart: alt.Chart = (
        alt.Chart(long, title="Top drifting tokens")
        .mark_bar()
        .encode(
            y=alt.Y("token:N", sort=list(frame["token"]), title=None),
            yOffset="where:N",
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of tokens"),
            color=alt.Color(
                "where:N",
                scale=alt.Scale(domain=["reference", "window"], range=["#9ecae1", "#d62728"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=["token:N", "where:N", alt.Tooltip("share:Q", format=".2%")],
        )
    )
    return chart


def metric_comparison_chart(frame: pd.DataFrame) -> alt.Chart:
    """Champion and challenger side by side on each metric (one evaluation set)."""
    long = frame.melt(
        id_vars=["metric"], value_vars=["champion", "challenger"], var_name="arm", value_name="v"
    )
    chart: alt.Chart = (
        alt.Chart(long.dropna(subset=["v"]), title="Champion vs challenger")
        .mark_bar()
        .encode(
            y=alt.Y("metric:N", title=None, sort=list(frame["metric"])),
            yOffset="arm:N",
            x=alt.X("v:Q", title=None, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("arm:N", scale=_arms(), legend=alt.Legend(orient="top")),
            tooltip=["metric:N", "arm:N", alt.Tooltip("v:Q", format=".4f")],
        )
    )
    return chart


def timeline_chart(
    frame: pd.DataFrame, *, lane: str, colour: str, label: str, title: str
) -> alt.LayerChart:
    """Events in time: a point per row in the lane of its `lane` value, coloured by `colour`,
    with `label` written beside it (e.g. the version an alias moved to)."""
    base = alt.Chart(frame, title=title).encode(
        x=alt.X("time:T", title=None, axis=_days(), scale=_utc()),
        y=alt.Y(f"{lane}:N", title=None),
    )
    points = base.mark_point(filled=True, size=140).encode(
        color=alt.Color(f"{colour}:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=[
            alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S", formatType="utc"),
            *frame.columns[1:],
        ],
    )
    text = base.mark_text(dx=10, align="left", fontSize=12).encode(text=f"{label}:N")
    chart: alt.LayerChart = alt.layer(points, text).properties(height=alt.Step(40))
    return chart


def performance_chart(frame: pd.DataFrame) -> alt.Chart:
    """Quality on labelled live traffic per window, one line per metric and model version."""
    chart: alt.Chart = (
        alt.Chart(frame, title="Quality on labelled live traffic")
        .mark_line(point=True)
        .encode(
            x=alt.X("ended_at:T", title=None, axis=_days(), scale=_utc()),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color("metric:N", legend=alt.Legend(orient="top", title=None)),
            strokeDash=alt.StrokeDash("model:N", legend=alt.Legend(orient="top", title="model")),
            tooltip=["model:N", "metric:N", alt.Tooltip("value:Q", format=".4f"), "n:Q"],
        )
        .properties(height=220)
    )
    return chart


def arms_chart(frame: pd.DataFrame) -> alt.Chart:
    """Error rate per arm of an A/B test."""
    chart: alt.Chart = (
        alt.Chart(frame, title="Error rate per arm")
        .mark_bar()
        .encode(
            x=alt.X("error_rate:Q", axis=alt.Axis(format="%"), title="error rate"),
            y=alt.Y("arm:N", title=None),
            color=alt.Color("variant:N", scale=_arms(), legend=None),
            tooltip=["arm:N", "n:Q", "errors:Q", alt.Tooltip("error_rate:Q", format=".2%")],
        )
        .properties(height=alt.Step(32))
    )
    return chart


def counts_chart(frame: pd.DataFrame, *, category: str, title: str) -> alt.Chart:
    """How many of each `category` (decisions per action, alerts per severity)."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title=None, axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{category}:N", title=None, sort="-x"),
            color=alt.Color(f"{category}:N", legend=None),
            tooltip=[f"{category}:N", "count:Q"],
        )
        .properties(height=alt.Step(26))
    )
    return chart
