"""`spamops audit explain`: the story of one prediction, told from the audit log alone.

Which model version and alias classified it (the `prediction.made`), who called (the
`access.recorded` with the same request id, else the same correlation, else — marked as a
guess — a /predict call right after it), its feedback (same prediction id), the drift and
performance windows of the same model version that cover its time, and what followed:
decisions, retraining requests, trainings, comparisons, promotions, A/B tests and alerts
reachable from those events through their references (correlation, input and trigger
event ids, retraining request, comparison, A/B test), then the next alias changes of the
model by time. Every line cites its audit sequence number; rows whose hash does not
recompute are flagged (run `spamops audit verify` for the whole chain).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from store.audit.canonical import link_hash
from store.audit.read import find
from store.audit.records import AuditRecord
from store.audit.summary import summarise

__all__ = ["ExplainedEvent", "Explanation", "explain"]

_WINDOWS = ("drift.measured", "performance.measured")
_ALIAS_MOVES = ("model.promoted", "model.rolled_back")
_FOLLOWERS = (
    "decision.made",
    "retrain.requested",
    "model.trained",
    "model.compared",
    *_ALIAS_MOVES,
    "abtest.started",
    "abtest.updated",
    "abtest.concluded",
    "alert.raised",
    "alert.delivered",
)
_GUESS_WINDOW = timedelta(seconds=5)
_CAP = 5000
"""Most rows read per lookup: explain stays fast on a large log."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExplainedEvent(_Frozen):
    seq: int
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    summary: str
    link: str
    """Why it belongs to this prediction's story."""
    intact: bool
    """Its stored hash recomputes from its content (the row alone, not the whole chain)."""


class Explanation(_Frozen):
    prediction_id: uuid.UUID
    prediction: ExplainedEvent
    model_name: str
    model_version: int
    model_alias: str | None
    variant: str
    request_id: str | None
    callers: list[ExplainedEvent]
    feedback: list[ExplainedEvent]
    windows: list[ExplainedEvent]
    followed: list[ExplainedEvent]
    later_alias_changes: list[ExplainedEvent]


def _doc(record: AuditRecord) -> dict[str, Any]:
    """The row's event document; an unreadable (tampered) one reads as an empty payload."""
    try:
        document = json.loads(record.event)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        return {"type": record.type, "id": str(record.event_id), "payload": {}}
    return document


def _explained(record: AuditRecord, link: str) -> ExplainedEvent:
    intact = link_hash(record.seq, record.prev_hash, record.entry_id, record.event) == record.hash
    return ExplainedEvent(
        seq=record.seq,
        event_id=record.event_id,
        type=record.type,
        occurred_at=record.occurred_at,
        summary=summarise(_doc(record)),
        link=link,
        intact=intact,
    )


def _time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _callers(session: Session, record: AuditRecord, request_id: str | None) -> list[ExplainedEvent]:
    kinds = ("access.recorded",)
    found: list[ExplainedEvent] = []
    if request_id:
        found += [
            _explained(r, "same request id") for r in find(session, types=kinds, subject=request_id)
        ]
    seen = {e.event_id for e in found}
    for r in find(session, types=kinds, correlation=record.correlation):
        if r.event_id not in seen:
            found.append(_explained(r, "same correlation"))
    if found:
        return found
    t = record.occurred_at
    nearby = find(session, types=kinds, since=t - timedelta(seconds=1), until=t + _GUESS_WINDOW)
    return [
        _explained(r, "guess by time: a /predict call within seconds (no request id matched)")
        for r in nearby
        if "predict" in str(_doc(r)["payload"].get("route", ""))
    ][:5]


def _covers(document: dict[str, Any], model: dict[str, Any], at: datetime) -> bool:
    payload = document["payload"]
    ref = payload.get("model", {})
    if (ref.get("name"), ref.get("version")) != (model.get("name"), model.get("version")):
        return False
    start, end = _time(payload.get("started_at")), _time(payload.get("ended_at"))
    return start is not None and end is not None and start <= at <= end


def _references(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(referenced id, how) for every id an event points back to."""
    payload: dict[str, Any] = document.get("payload") or {}
    refs: list[tuple[str, str]] = []
    for field, how in (
        ("input_event_ids", "decided on"),
        ("trigger_event_ids", "triggered by"),
    ):
        refs += [(str(i), how) for i in payload.get(field) or ()]
    for field, how in (
        ("retrain_request_id", "for the retraining requested in"),
        ("comparison_event_id", "after the comparison in"),
        ("source_event_id", "about"),
        ("alert_id", "delivers the alert in"),
        ("abtest_id", "in the A/B test of"),
    ):
        if payload.get(field):
            refs.append((str(payload[field]), how))
    labels = payload.get("labels") or {}
    if isinstance(labels, dict) and labels.get("retrain_request_id"):
        refs.append((str(labels["retrain_request_id"]), "about the retraining requested in"))
    if document.get("correlation") != document.get("id"):  # the vaguest link comes last
        refs.append((str(document.get("correlation")), "same correlation as"))
    return refs


def _follow(candidates: list[AuditRecord], known: dict[str, str]) -> list[ExplainedEvent]:
    """Events reachable from `known` ids (id → "seq N"), to a fixpoint, in chain order."""
    linked: dict[int, ExplainedEvent] = {}
    changed = True
    while changed:
        changed = False
        for record in candidates:
            if record.seq in linked:
                continue
            document = _doc(record)
            for ref, how in _references(document):
                if ref in known:
                    linked[record.seq] = _explained(record, f"{how} {known[ref]}")
                    known.setdefault(str(record.event_id), f"seq {record.seq}")
                    abtest = (document.get("payload") or {}).get("abtest_id")
                    if abtest:
                        known.setdefault(str(abtest), f"seq {record.seq}")
                    changed = True
                    break
    return [linked[seq] for seq in sorted(linked)]


def explain(
    session: Session, prediction_id: uuid.UUID, *, horizon: timedelta = timedelta(days=30)
) -> Explanation | None:
    """The story of a prediction (by prediction id, or by its event id); None if unknown."""
    kinds = ("prediction.made",)
    found = find(session, types=kinds, subject=str(prediction_id), limit=1) or find(
        session, types=kinds, event_id=prediction_id, limit=1
    )
    if not found:
        return None
    record = found[0]
    payload = _doc(record)["payload"]
    model: dict[str, Any] = payload.get("model") or {}
    t, until = record.occurred_at, record.occurred_at + horizon
    request_id = payload.get("request_id")
    pid = str(payload.get("prediction_id") or record.subject or prediction_id)
    feedback = find(session, types=("feedback.received",), subject=pid)
    windows = [
        r
        for r in find(session, types=_WINDOWS, since=t, until=until, limit=_CAP)
        if _covers(_doc(r), model, t)
    ]
    known = {str(record.event_id): f"the prediction (seq {record.seq})"}
    known[str(record.correlation)] = f"the prediction (seq {record.seq})"
    if payload.get("abtest_id"):
        known[str(payload["abtest_id"])] = f"the prediction (seq {record.seq})"
    for r in (*feedback, *windows):
        known[str(r.event_id)] = f"seq {r.seq}"
    followed = _follow(find(session, types=_FOLLOWERS, since=t, until=until, limit=_CAP), known)
    cited = {e.seq for e in followed}
    moves = [
        _explained(r, f"a later alias change of {model.get('name')} (by time)")
        for r in find(session, types=_ALIAS_MOVES, since=t, until=until, limit=_CAP)
        if r.seq not in cited and _doc(r)["payload"].get("model_name") == model.get("name")
    ][:3]
    return Explanation(
        prediction_id=uuid.UUID(pid),
        prediction=_explained(record, "the prediction"),
        model_name=str(model.get("name", "?")),
        model_version=int(model.get("version", 0)),
        model_alias=model.get("alias"),
        variant=str(payload.get("variant", "?")),
        request_id=request_id,
        callers=_callers(session, record, request_id),
        feedback=[_explained(r, "feedback on this prediction") for r in feedback],
        windows=[_explained(r, "a window of the same model version covering it") for r in windows],
        followed=followed,
        later_alias_changes=moves,
    )
