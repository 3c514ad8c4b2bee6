"""Which system events deserve an alert, how severe, and what the operator reads.

Pure functions, event → `Alert` or None, so each rule is tested without a bus. A body says
what happened, with the figures, then what to do, ending with the runbook section by name.

- `drift.measured` with `drifted`: warning, key `drift:<model>:v<version>`;
- `performance.measured` with accuracy below `retrain.accuracy_floor`: critical, key
  `performance:<model>:v<version>`;
- `model.promoted`: info, key `promoted:<model>:<alias>:v<version>`;
- `model.rolled_back`: warning, key `rolled-back:<model>:v<from>:v<to>`;
- `event.deadlettered`: the first of a stream and group within the window (warning, key
  `deadletter:<stream>:<group>`) and the `deadletter_surge`-th (critical, key `...:surge`).

Failed retraining and agent decisions of type alert are not here: the retrainer and the agent
publish `alert.raised` themselves, and a second alert from here would only duplicate theirs.
"""

from __future__ import annotations

from schemas.events import (
    DriftMeasured,
    EventDeadLettered,
    ModelPromoted,
    ModelRolledBack,
    PerformanceMeasured,
)
from schemas.operations import Alert
from spamops.settings import AlertSettings

__all__ = [
    "deadletter_alert",
    "drift_alert",
    "performance_alert",
    "promoted_alert",
    "rolled_back_alert",
    "runbook",
    "span",
]

_MAX_TOKENS = 8


def runbook(settings: AlertSettings, section: str) -> str:
    """`Runbook: <url>#<anchor> ("<section>")`, the anchor as GitHub renders headings."""
    anchor = "".join(c for c in section.lower() if c.isalnum() or c in " -").replace(" ", "-")
    return f'Runbook: {settings.runbook_url}#{anchor} ("{section}")'


def span(seconds: float) -> str:
    """A short human duration: 45 s, 30 min, 1 h, 2 d."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def drift_alert(event: DriftMeasured, settings: AlertSettings) -> Alert | None:
    p = event.payload
    if not p.drifted:
        return None
    m = p.model
    lines = [
        f"The last {p.n} predictions of {m.name} v{m.version} "
        f"({p.started_at:%Y-%m-%d %H:%M}–{p.ended_at:%H:%M} UTC) no longer look like the data "
        f"it was trained on: drift score {p.score:.2f} (0 = like the reference, 1 = certainly "
        "drifted).",
    ]
    over = [s for s in p.statistics if s.drifted]
    if over:
        lines += ["", "Statistics over their calibrated thresholds:"]
        for s in over:
            extra = f", p = {s.p_value:.2g}" if s.p_value is not None else ""
            lines.append(f"- {s.name}: {s.value:.3g} (threshold {s.threshold:.3g}{extra})")
    if p.top_tokens:
        moved = ", ".join(
            f"{t.token} ({t.reference_share:.1%} → {t.window_share:.1%})"
            for t in p.top_tokens[:_MAX_TOKENS]
        )
        lines += ["", f"Tokens that moved most: {moved}"]
    lines += [
        "",
        "What to do: check whether traffic changed on purpose (a campaign, a new sender) or "
        "spammers changed tactics; the dashboard's Drift page shows example messages. The "
        "agent decides whether to retrain: follow it with `spamops events tail decisions`.",
        runbook(settings, "Drift alert"),
    ]
    return Alert(
        severity="warning",
        title=f"Drift on {m.name} v{m.version}: score {p.score:.2f} over {p.n} predictions",
        body="\n".join(lines),
        dedupe_key=f"drift:{m.name}:v{m.version}",
        source_event_id=event.id,
        labels={"kind": "drift", "model": m.name, "version": str(m.version)},
    )


def performance_alert(
    event: PerformanceMeasured, floor: float, settings: AlertSettings
) -> Alert | None:
    p = event.payload
    q, m = p.metrics, p.model
    if q.accuracy >= floor:
        return None
    body = "\n".join(
        [
            f"On {q.n} labelled predictions ({p.started_at:%Y-%m-%d %H:%M}–{p.ended_at:%H:%M} "
            f"UTC), {m.name} v{m.version} scored below the accuracy floor:",
            f"- accuracy {q.accuracy:.1%} (floor {floor:.1%})",
            f"- spam precision {q.spam_precision:.1%}, recall {q.spam_recall:.1%}, "
            f"F1 {q.spam_f1:.3f}",
            f"- ham false-positive rate {q.ham_fpr:.2%}; MCC {q.mcc:.3f}",
            "",
            "What to do: if this version was promoted recently, roll it back with "
            "`spamops models rollback`; otherwise the agent requests a retraining (follow it "
            "with `spamops events tail decisions`). Check the feedback too: a batch of wrong "
            "labels looks exactly like this.",
            runbook(settings, "A bad model promoted"),
        ]
    )
    return Alert(
        severity="critical",
        title=f"Accuracy {q.accuracy:.1%} below the floor {floor:.1%} on {m.name} v{m.version}",
        body=body,
        dedupe_key=f"performance:{m.name}:v{m.version}",
        source_event_id=event.id,
        labels={"kind": "performance", "model": m.name, "version": str(m.version)},
    )


def promoted_alert(event: ModelPromoted, settings: AlertSettings) -> Alert:
    p = event.payload
    was = f" (was v{p.previous_version})" if p.previous_version else ""
    if p.alias == "champion":
        todo = (
            "What to do: nothing if you expected it. If quality drops, "
            "`spamops models rollback` restores the previous champion."
        )
    else:
        todo = "What to do: nothing; a challenger serves only after a comparison or an A/B test."
    lines = [
        f"{p.model_name} v{p.version} is now {p.alias}{was}.",
        f"- by: {p.actor}",
        f"- reason: {p.reason}",
    ]
    if p.comparison_event_id is not None:
        lines.append(f"- comparison: event {p.comparison_event_id}")
    lines += ["", todo, runbook(settings, "A bad model promoted")]
    return Alert(
        severity="info",
        title=f"{p.model_name} v{p.version} promoted to {p.alias}{was}",
        body="\n".join(lines),
        dedupe_key=f"promoted:{p.model_name}:{p.alias}:v{p.version}",
        source_event_id=event.id,
        labels={"kind": "promotion", "model": p.model_name, "version": str(p.version)},
    )


def rolled_back_alert(event: ModelRolledBack, settings: AlertSettings) -> Alert:
    p = event.payload
    body = "\n".join(
        [
            f"champion of {p.model_name} moved back from v{p.from_version} to v{p.to_version}.",
            f"- by: {p.actor}",
            f"- reason: {p.reason}",
            "",
            f"What to do: find out why v{p.from_version} failed (the drift and performance "
            "events before this one: `spamops events replay drift --since 2h`) and fix the "
            "training data before the next retraining promotes a similar model.",
            runbook(settings, "A bad model promoted"),
        ]
    )
    return Alert(
        severity="warning",
        title=f"{p.model_name} rolled back from v{p.from_version} to v{p.to_version}",
        body=body,
        dedupe_key=f"rolled-back:{p.model_name}:v{p.from_version}:v{p.to_version}",
        source_event_id=event.id,
        labels={"kind": "rollback", "model": p.model_name, "version": str(p.to_version)},
    )


def deadletter_alert(event: EventDeadLettered, count: int, settings: AlertSettings) -> Alert | None:
    """An alert for the first dead letter of a stream+group in the window, and at the surge."""
    p = event.payload
    surge = count == settings.deadletter_surge
    if count != 1 and not surge:
        return None
    window = span(settings.dedupe_window_s)
    body = "\n".join(
        [
            f"Consumer group `{p.group}` gave up on entry {p.entry_id} of stream `{p.stream}` "
            f"after {p.deliveries} deliveries (member {p.consumer}).",
            f"- error: {p.error[:500]}",
            f"- dead letters of this group and stream in the last {window}: {count}"
            + ("" if surge else f" (the next alert comes at {settings.deadletter_surge})"),
            "",
            "What to do: `spamops deadletter list` shows them with their ids and errors. Fix "
            "the consumer (or the producer of the bad events), then requeue each with "
            "`spamops deadletter requeue <id>`.",
            runbook(settings, "Dead-letter growth"),
        ]
    )
    title = (
        f"{count} dead letters from {p.group} on {p.stream} within {window}"
        if surge
        else f"Dead letter from {p.group} on {p.stream}"
    )
    return Alert(
        severity="critical" if surge else "warning",
        title=title,
        body=body,
        dedupe_key=f"deadletter:{p.stream}:{p.group}" + (":surge" if surge else ""),
        source_event_id=event.id,
        labels={"kind": "deadletter", "stream": p.stream, "group": p.group},
    )
