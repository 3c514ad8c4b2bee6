"""One line per logged event, for people: what `spamops audit explain` prints.

Works on the stored canonical document (a dict), not on pydantic classes, so an old row
whose payload class has since changed still reads. Never prints message texts or drift
examples (personal data): a prediction shows its text's SHA-256 prefix at most.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["summarise"]

Doc = dict[str, Any]


def _model(ref: Any) -> str:
    if not isinstance(ref, dict):
        return "?"
    alias = f" ({ref['alias']})" if ref.get("alias") else ""
    return f"{ref.get('name', '?')} v{ref.get('version', '?')}{alias}"


def _prediction(p: Doc) -> str:
    probability = float(p.get("spam_probability", 0))
    return (
        f"{p.get('label')} (p={probability:.3f}) by {_model(p.get('model'))}, "
        f"variant {p.get('variant')}, text sha256 {str(p.get('text_sha256', ''))[:12]}…"
    )


def _access(p: Doc) -> str:
    role = f" ({p['role']})" if p.get("role") else ""
    origin = f" from {p['client']}" if p.get("client") else ""
    return (
        f"{p.get('principal')}{role}: {p.get('method')} {p.get('route')} → {p.get('status')} "
        f"in {float(p.get('latency_ms', 0)):.1f} ms{origin}, request {p.get('request_id')}"
    )


def _drift(p: Doc) -> str:
    verdict = "drifted" if p.get("drifted") else "no drift"
    tokens = ", ".join(str(t.get("token")) for t in p.get("top_tokens", [])[:3])
    top = f"; top tokens {tokens}" if tokens else ""
    return (
        f"{verdict}, score {float(p.get('score', 0)):.2f} over {p.get('n')} predictions of "
        f"{_model(p.get('model'))} ({p.get('started_at')} – {p.get('ended_at')}){top}"
    )


def _performance(p: Doc) -> str:
    m = p.get("metrics", {})
    return (
        f"{_model(p.get('model'))}: accuracy {float(m.get('accuracy', 0)):.3f}, "
        f"spam F1 {float(m.get('spam_f1', 0)):.3f}, MCC {float(m.get('mcc', 0)):.3f} "
        f"on {m.get('n')} labelled"
    )


def _decision(p: Doc) -> str:
    guard = f", blocked by {p['blocked_by']}" if p.get("blocked_by") else ""
    return (
        f"{p.get('action')} ({p.get('policy')} policy, confidence "
        f"{float(p.get('confidence', 0)):.2f}{guard}): {p.get('rationale')}"
    )


def _compared(p: Doc) -> str:
    mcnemar = p.get("mcnemar", {})
    return (
        f"{_model(p.get('champion'))} vs {_model(p.get('challenger'))}: {p.get('decision')} "
        f"(McNemar p={float(mcnemar.get('p_value', 1)):.4f})"
    )


def _promoted(p: Doc) -> str:
    before = p.get("previous_version")
    was = f" (was v{before})" if before else ""
    return (
        f"{p.get('alias')} of {p.get('model_name')} → v{p.get('version')}{was} by "
        f"{p.get('actor')}: {p.get('reason')}"
    )


_SUMMARIES: dict[str, Callable[[Doc], str]] = {
    "prediction.made": _prediction,
    "feedback.received": lambda p: f"label {p.get('label')} (source {p.get('source')})",
    "access.recorded": _access,
    "drift.measured": _drift,
    "performance.measured": _performance,
    "decision.made": _decision,
    "retrain.requested": lambda p: (
        f"retrain ({p.get('reason')}) requested by {p.get('requested_by')}"
        + (f": {p['detail']}" if p.get("detail") else "")
    ),
    "model.trained": lambda p: (
        f"{_model(p.get('model'))} trained on {p.get('training_rows')} rows "
        f"({p.get('feedback_rows')} from feedback), run {p.get('run_id')}"
    ),
    "model.compared": _compared,
    "model.promoted": _promoted,
    "model.rolled_back": lambda p: (
        f"champion of {p.get('model_name')} rolled back v{p.get('from_version')} → "
        f"v{p.get('to_version')} by {p.get('actor')}: {p.get('reason')}"
    ),
    "abtest.started": lambda p: (
        f"A/B test {_model(p.get('champion'))} vs {_model(p.get('challenger'))} "
        f"({p.get('mode')}) started by {p.get('started_by')}"
    ),
    "abtest.updated": lambda p: f"A/B test update, p={float(p.get('p_value', 1)):.4f}",
    "abtest.concluded": lambda p: (
        f"A/B test concluded: winner {p.get('winner')} ({p.get('reason')}), "
        f"effect {float(p.get('effect', 0)):+.4f}"
    ),
    "alert.raised": lambda p: f"{p.get('severity')} alert: {p.get('title')}",
    "alert.delivered": lambda p: (
        f"alert delivery via {p.get('channel')}: {'ok' if p.get('ok') else 'failed'}"
    ),
    "event.deadlettered": lambda p: (
        f"dead letter from {p.get('stream')} {p.get('entry_id')} ({p.get('group')}): "
        f"{p.get('error')}"
    ),
}


def summarise(document: Doc) -> str:
    """A one-line description of a logged event document."""
    payload = document.get("payload")
    describe = _SUMMARIES.get(str(document.get("type")))
    if describe is None or not isinstance(payload, dict):
        return str(document.get("type"))
    try:
        return describe(payload)
    except (TypeError, ValueError, AttributeError):
        return f"{document.get('type')} (unreadable payload)"
