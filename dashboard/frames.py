"""API answers (JSON) as DataFrames, one function per view; pure, so tested without Streamlit.

Times become UTC timestamps (naive, see `_times`); a list nobody filled becomes an empty frame
with the right columns, so a page can test `frame.empty` and a chart never meets a
missing column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "KEY_METRICS",
    "alerts_frame",
    "alias_frame",
    "arms_frame",
    "bus_frame",
    "comparison_frame",
    "counts_frame",
    "decisions_frame",
    "drift_statistics_frame",
    "performance_frame",
    "predictions_frame",
    "retraining_frame",
    "tokens_frame",
    "traffic_frame",
    "versions_frame",
]

KEY_METRICS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "ham_fpr", "mcc", "roc_auc")

JSON = Any


def _frame(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


def _times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """UTC times, stored naive: charts draw them on a UTC scale, tables label them UTC, and
    neither goes through pandas' deprecated tz-aware `Series.values` on its way to Arrow."""
    for column in columns:
        moments = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        frame[column] = moments.dt.tz_localize(None)
    return frame


def traffic_frame(traffic: JSON) -> pd.DataFrame:
    rows = [
        {
            "minute": m["minute"],
            "predictions": m["predictions"],
            "spam": m["spam"],
            "spam_rate": m["spam_rate"],
            "challenger": m["challenger"],
            "champion": m["predictions"] - m["challenger"],
            "latency_ms": m["mean_latency_ms"],
        }
        for m in traffic["minutes"]
    ]
    columns = ["minute", "predictions", "spam", "spam_rate", "challenger", "champion"]
    frame = _times(_frame(rows, [*columns, "latency_ms"]), "minute")
    return frame.astype({"spam_rate": "float64", "latency_ms": "float64"})


def bus_frame(bus: JSON) -> pd.DataFrame:
    """One row per stream and consumer group (a stream without groups: one row, no group)."""
    rows = []
    for s in bus["streams"]:
        for g in s["groups"] or [None]:
            rows.append(
                {
                    "stream": s["stream"],
                    "length": s["length"],
                    "group": g["name"] if g else "—",
                    "consumers": g["consumers"] if g else 0,
                    "pending": g["pending"] if g else 0,
                    "lag": g["lag"] if g else None,
                }
            )
    return _frame(rows, ["stream", "length", "group", "consumers", "pending", "lag"])


def drift_statistics_frame(windows: JSON) -> pd.DataFrame:
    """Every statistic of every window, long form: one row per (window, statistic)."""
    rows = [
        {
            "window_id": w["window_id"],
            "ended_at": w["ended_at"],
            "model": f"v{w['model']['version']}",
            "statistic": s["name"],
            "value": s["value"],
            "threshold": s["threshold"],
            "drifted": s["drifted"],
            "p_value": s.get("p_value"),
        }
        for w in windows
        for s in w["statistics"]
    ]
    columns = ["window_id", "ended_at", "model", "statistic", "value", "threshold", "drifted"]
    return _times(_frame(rows, [*columns, "p_value"]), "ended_at")


def tokens_frame(window: JSON) -> pd.DataFrame:
    return _frame(
        window.get("top_tokens") or [], ["token", "reference_share", "window_share", "weight"]
    )


def predictions_frame(predictions: JSON, audit_path: str = "audit") -> pd.DataFrame:
    rows = [
        {
            "time": p["occurred_at"],
            "label": p["label"],
            "spam_probability": p["spam_probability"],
            "model": f"v{p['model']['version']}",
            "variant": p["variant"],
            "latency_ms": p["latency_ms"],
            "client": p.get("client_id") or "—",
            "message": p["text"] if p.get("text") is not None else "(redacted)",
            "audit": f"{audit_path}?prediction_id={p['prediction_id']}",
        }
        for p in predictions
    ]
    columns = ["time", "label", "spam_probability", "model", "variant", "latency_ms"]
    return _times(_frame(rows, [*columns, "client", "message", "audit"]), "time")


def versions_frame(models: JSON) -> pd.DataFrame:
    rows = [
        {
            "version": m["version"],
            "aliases": ", ".join(m.get("aliases") or []) or "—",
            "created_at": m.get("created_at"),
            "run_id": m.get("run_id") or "—",
            **{k: (m.get("metrics") or {}).get(k) for k in KEY_METRICS},
        }
        for m in models
    ]
    frame = _frame(rows, ["version", "aliases", "created_at", "run_id", *KEY_METRICS])
    unknown = [k for k in KEY_METRICS if frame[k].isna().all()]
    return _times(frame.drop(columns=unknown), "created_at")


def comparison_frame(comparison: JSON) -> pd.DataFrame:
    champion, challenger = comparison["champion_metrics"], comparison["challenger_metrics"]
    rows = [
        {
            "metric": k,
            "champion": champion.get(k),
            "challenger": challenger.get(k),
            "delta": (
                challenger[k] - champion[k]
                if champion.get(k) is not None and challenger.get(k) is not None
                else None
            ),
        }
        for k in KEY_METRICS
        if champion.get(k) is not None or challenger.get(k) is not None
    ]
    return _frame(rows, ["metric", "champion", "challenger", "delta"]).astype(
        {"champion": "float64", "challenger": "float64", "delta": "float64"}
    )


def alias_frame(history: JSON) -> pd.DataFrame:
    rows = [
        {
            "time": h["occurred_at"],
            "change": h["kind"].replace("_", " "),
            "alias": h["alias"],
            "from": f"v{h['from_version']}" if h.get("from_version") else "—",
            "to": f"v{h['to_version']}",
            "actor": h["actor"],
            "reason": h["reason"],
        }
        for h in history
    ]
    return _times(
        _frame(rows, ["time", "change", "alias", "from", "to", "actor", "reason"]), "time"
    )


def retraining_frame(runs: JSON) -> pd.DataFrame:
    rows = []
    for r in runs:
        comparison = r.get("comparison") or {}
        rows.append(
            {
                "time": r.get("requested_at") or r["updated_at"],
                "status": r["status"],
                "reason": r.get("reason") or "—",
                "requested_by": r.get("requested_by") or "—",
                "challenger": f"v{r['challenger_version']}" if r.get("challenger_version") else "—",
                "decision": comparison.get("decision", "—"),
                "mcnemar_p": comparison.get("mcnemar_p"),
                "failure": r.get("failure") or "",
            }
        )
    columns = ["time", "status", "reason", "requested_by", "challenger", "decision", "mcnemar_p"]
    return _times(_frame(rows, [*columns, "failure"]), "time")


def performance_frame(windows: JSON) -> pd.DataFrame:
    rows = [
        {
            "ended_at": w["ended_at"],
            "model": f"v{w['model']['version']}",
            "metric": k,
            "value": w["metrics"][k],
            "n": w["metrics"]["n"],
        }
        for w in windows
        for k in ("accuracy", "spam_f1", "mcc")
    ]
    return _times(_frame(rows, ["ended_at", "model", "metric", "value", "n"]), "ended_at")


def arms_frame(arms: JSON) -> pd.DataFrame:
    rows = [
        {
            "arm": f"{a['variant']} v{a['model_version']}",
            "variant": a["variant"],
            "n": a["n"],
            "errors": a["errors"],
            "error_rate": a["error_rate"],
            "spam_recall": a.get("spam_recall"),
            "ham_fpr": a.get("ham_fpr"),
            "latency_p50_ms": a.get("latency_p50_ms"),
        }
        for a in arms
    ]
    columns = ["arm", "variant", "n", "errors", "error_rate", "spam_recall", "ham_fpr"]
    frame = _frame(rows, [*columns, "latency_p50_ms"])
    optional = ["spam_recall", "ham_fpr", "latency_p50_ms"]
    return frame.drop(columns=[c for c in optional if frame[c].isna().all()])


def decisions_frame(decisions: JSON) -> pd.DataFrame:
    rows = [
        {
            "time": d["occurred_at"],
            "action": d["action"],
            "policy": d["policy"] + (" (fell back)" if d.get("fell_back") else ""),
            "confidence": d["confidence"],
            "target": f"v{d['target_version']}" if d.get("target_version") else "—",
            "blocked_by": d.get("blocked_by") or "",
            "rationale": d["rationale"],
        }
        for d in decisions
    ]
    columns = ["time", "action", "policy", "confidence", "target", "blocked_by", "rationale"]
    return _times(_frame(rows, columns), "time")


def alerts_frame(alerts: JSON) -> pd.DataFrame:
    rows = [
        {
            "time": a["occurred_at"],
            "severity": a["severity"],
            "title": a["title"],
            "delivery": a["delivery_status"],
            "channels": ", ".join(
                f"{d['channel']} {'ok' if d['ok'] else 'failed'}" for d in a.get("deliveries", [])
            )
            or "—",
            "dedupe_key": a["dedupe_key"],
        }
        for a in alerts
    ]
    columns = ["time", "severity", "title", "delivery", "channels", "dedupe_key"]
    return _times(_frame(rows, columns), "time")


def counts_frame(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    counts = frame[column].value_counts()
    return pd.DataFrame({column: counts.index, "count": counts.to_numpy()})
