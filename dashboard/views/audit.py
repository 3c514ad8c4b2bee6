"""Audit: for one prediction id, which model classified the message, with what score, the
label it later got, how that model was made, and the alias move that had put it in service.

The id can come in the URL (`/audit?prediction_id=...`, as the Live page links it), so an
auditor can share the exact view.
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from dashboard import ui
from dashboard.client import ApiClient

__all__ = ["render"]

_PARAM = "prediction_id"


def _prediction(p: dict[str, Any]) -> None:
    model = p["model"]
    cols = st.columns(5)
    cols[0].metric("Label", p["label"])
    cols[1].metric("P(spam)", ui.number(p["spam_probability"], 3))
    alias = f" ({model['alias']})" if model.get("alias") else ""
    cols[2].metric(f"Model{alias}", ui.version(model), help=model["name"])
    cols[3].metric("Variant", p["variant"])
    cols[4].metric("Feedback", p.get("feedback_label") or "none")
    if p.get("feedback_label") and p["feedback_label"] != p["label"]:
        st.warning(
            f"Misclassified: labelled {p['feedback_label']} on "
            f"{ui.short_time(p.get('feedback_at'))}.",
            icon=":material/report:",
        )
    rows = {
        "classified at": ui.short_time(p["occurred_at"]),
        "latency": f"{p['latency_ms']:.2f} ms",
        "client id": p.get("client_id") or "—",
        "request id": p.get("request_id") or "—",
        "A/B test": p.get("abtest_id") or "—",
        "prediction event": p["event_id"],
        "feedback event": p.get("feedback_event_id") or "—",
        "text SHA-256": p["text_sha256"],
    }
    st.table({"field": list(rows), "value": [str(v) for v in rows.values()]})
    st.markdown("**Message**")
    st.text(p["text"] if p.get("text") is not None else "(redacted: the API kept only its hash)")


def _provenance(version: dict[str, Any] | None, promotion: dict[str, Any] | None) -> None:
    st.subheader("The model")
    if version is None:
        st.caption("No `model.trained` event for this version (registered outside spamops).")
    else:
        m = version["metrics"]
        st.markdown(
            f"Trained {ui.short_time(version['created_at'])} in run `{version['run_id']}` on "
            f"{version['training_rows']:,} messages ({version['feedback_rows']:,} from "
            f"feedback), {version['duration_s']:.1f} s. Held-out accuracy "
            f"{ui.number(m['accuracy'], 4)}, MCC {ui.number(m['mcc'], 4)}, ham FPR "
            f"{ui.number(m['ham_fpr'], 4)}."
        )
    if promotion is None:
        st.caption("No alias move to this version before the prediction is recorded.")
        return
    previous = f"v{promotion['from_version']}" if promotion.get("from_version") else "nothing"
    st.markdown(
        f"In service since {ui.short_time(promotion['occurred_at'])}: "
        f"{promotion['kind'].replace('_', ' ')} to {promotion['alias']} by "
        f"**{promotion['actor']}** (replacing {previous}) — “{promotion['reason']}”."
    )


def _search() -> uuid.UUID | None:
    given = st.query_params.get(_PARAM, "")
    text = st.text_input(
        "Prediction id",
        value=given,
        placeholder="e.g. 01938f5e-7c1a-7cc3-9a5e-3f0d5b8e1a42",
        help="The prediction_id of a /predict answer (or follow 'explain' on the Live page).",
    )
    text = (text or "").strip()
    if not text:
        return None
    try:
        wanted = uuid.UUID(text)
    except ValueError:
        st.error(f"'{text}' is not a prediction id: expected a UUID.")
        return None
    st.query_params[_PARAM] = str(wanted)
    return wanted


def render(api: ApiClient) -> None:
    st.title("Audit")
    wanted = _search()
    if wanted is None:
        ui.empty(
            "Enter a prediction id — the prediction_id a /predict answer returned, or click "
            "'explain' on the Live page — to see which model classified it and why it served."
        )
        return
    found = api.audit(wanted)
    if found is None:
        st.warning(
            f"No prediction {wanted} in the store: check the id, or wait a few seconds if it "
            "was just made (the projector writes predictions within seconds).",
            icon=":material/search_off:",
        )
        return
    _prediction(found["prediction"])
    _provenance(found.get("model_version"), found.get("promotion"))


if __name__ == "__main__":
    ui.run_page(render)
