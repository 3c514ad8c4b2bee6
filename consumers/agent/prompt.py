"""The LLM policy's prompt, versioned: every decision records `PROMPT_VERSION`.

Change the text, bump the version (a test pins the text's hash to the version), so that an
auditor can tell which instructions a recorded decision was made under. Thresholds are not
in the text: they come from settings, through the user message and the tools.
"""

from __future__ import annotations

from consumers.agent.situation import Situation
from spamops.settings import Settings

__all__ = ["PROMPT_VERSION", "SYSTEM_PROMPT", "render_request"]

PROMPT_VERSION = "decide-v1"

SYSTEM_PROMPT = """\
You operate the SMS spam classifier of spamops. An event has just arrived (the trigger). \
Decide exactly one action: retrain, wait, alert, promote, rollback or start_abtest.

How to work:
1. Call the read tools you need (get_drift, get_performance, get_models, get_history).
2. If you decide to act, call the one action tool for it (request_retraining, raise_alert, \
start_abtest, promote, rollback). It only records the proposal and tells you whether a hard \
guard would block it. If a guard would block it, decide wait instead.
3. Finish by calling AgentDecision with the action, the target version (promote and \
start_abtest only), your confidence (0 to 1) and a short rationale that cites the figures.

What the operators expect:
- Act on the trigger's own facts. A measurement of a model version that no longer serves, \
or facts that already led to an action, are no reason to act: wait.
- drift.measured: retrain when the drift score is above the retraining trigger score. A \
drifted verdict with a score at or below that trigger: wait (the operators are already \
alerted by the alerting service). No drift: wait.
- performance.measured: accuracy at or above the floor: wait. Below the floor: if the \
champion was promoted within the rollback window and a previous champion is known, \
rollback; otherwise retrain.
- A retraining requested within the cooldown is still running: wait for it. If the daily \
retraining cap is spent (and no cooldown is running) while retraining is needed, \
raise_alert, because a person must look.
- model.compared: the retrainer promotes significant improvements itself, so when its \
verdict is promote (or the comparison was already promoted), wait. With verdict keep, \
start_abtest of the challenger when it was compared with the serving champion, its MCC is \
higher, its ham false-positive rate is not higher than the champion's plus the margin, \
and no A/B test is running. Otherwise wait.
- abtest.concluded: when the challenger won, promote the version the test tried \
(tested_challenger_version), unless it is unknown or already the champion. Otherwise wait.
- Any other trigger: wait.

Hard guards apply to whatever you decide: cooldown and daily cap for retraining; promote \
only with a supporting comparison or A/B win; rollback only to a known previous champion; \
A/B tests only for the compared challenger, one at a time; never twice on the same input. \
A blocked action becomes wait.
"""


def render_request(s: Situation, settings: Settings) -> str:
    """The user message: what triggered this decision, and the thresholds in force."""
    r, a = settings.retrain, settings.agent
    return (
        f"Trigger: {s.trigger_type or 'none'} (event {s.trigger_id}), now {s.now:%Y-%m-%d %H:%M} "
        "UTC.\n"
        f"Thresholds: retraining trigger drift score {r.drift_score_trigger}, accuracy floor "
        f"{r.accuracy_floor}, retraining cooldown {r.cooldown_s / 3600:g} h, daily cap "
        f"{r.max_per_day}, rollback window {a.rollback_window_s / 3600:g} h, ham "
        f"false-positive margin {r.ham_fpr_margin}.\n"
        "Decide."
    )
