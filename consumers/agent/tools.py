"""The agent's tool set, shared by both policies: four read tools and five action tools.

Read tools show the `Situation` (the facts folded from the streams) as small JSON objects.
Action tools execute nothing: they record the proposed action, and say whether a hard guard
would block it, so that the guards and the consumer, not the model, decide what happens.
The rule policy's proposals are the same action calls (`as_tool_call`), so a rule decision
and an LLM decision are written in one vocabulary.

A `ToolBox` lives for one decision; no tool has a side effect beyond it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consumers.agent.guards import Guards
from consumers.agent.proposal import Proposal
from consumers.agent.situation import Situation
from consumers.agent.views import drift_view, history_view, models_view, performance_view
from schemas.decisions import Action
from spamops.settings import Settings

__all__ = ["ACTION_TOOLS", "TOOLS", "ToolBox", "ToolError", "ToolSpec", "as_tool_call"]


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonArgs(NoArgs):
    reason: str = Field(
        min_length=1, max_length=2000, description="Why, with the figures that justify it."
    )


class VersionArgs(ReasonArgs):
    version: int = Field(ge=1, description="The model version (an integer, e.g. 3).")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args: type[NoArgs]
    kind: Literal["read", "action"]
    action: Action | None = None


_ACT = (
    "Records the proposal only; nothing happens until your final decision, and the hard "
    "guards can still turn it into `wait`. The answer says whether a guard would block it."
)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "get_drift",
        "The latest drift measurement of the serving champion: score, verdict, the drift "
        "score that triggers retraining, per-statistic values and thresholds, top tokens.",
        NoArgs,
        "read",
    ),
    ToolSpec(
        "get_performance",
        "The latest quality window of the serving champion on labelled traffic (accuracy, "
        "spam recall/precision, ham false-positive rate, MCC) and the accuracy floor.",
        NoArgs,
        "read",
    ),
    ToolSpec(
        "get_models",
        "Champion, previous champion and challenger versions; when the champion was promoted "
        "and the rollback window; the latest champion/challenger comparison; A/B test state.",
        NoArgs,
        "read",
    ),
    ToolSpec(
        "get_history",
        "Recent retraining requests against the cooldown and the daily cap, and the agent's "
        "recent decisions.",
        NoArgs,
        "read",
    ),
    ToolSpec(
        "request_retraining",
        f"Propose training a new challenger. {_ACT}",
        ReasonArgs,
        "action",
        "retrain",
    ),
    ToolSpec(
        "raise_alert",
        f"Propose alerting the operators: a person must look. {_ACT}",
        ReasonArgs,
        "action",
        "alert",
    ),
    ToolSpec(
        "start_abtest",
        f"Propose an A/B test of challenger `version` against the champion. {_ACT}",
        VersionArgs,
        "action",
        "start_abtest",
    ),
    ToolSpec(
        "promote",
        f"Propose making `version` the champion. {_ACT}",
        VersionArgs,
        "action",
        "promote",
    ),
    ToolSpec(
        "rollback",
        f"Propose moving the champion back to the previous champion. {_ACT}",
        ReasonArgs,
        "action",
        "rollback",
    ),
)

ACTION_TOOLS: dict[Action, str] = {t.action: t.name for t in TOOLS if t.action is not None}
_BY_NAME = {t.name: t for t in TOOLS}


class ToolError(ValueError):
    """A tool was called by a name that does not exist, or with arguments it does not take."""


def as_tool_call(proposal: Proposal) -> tuple[str, dict[str, Any]] | None:
    """The action tool call that expresses `proposal`; None for `wait`."""
    if proposal.action == "wait":
        return None
    args: dict[str, Any] = {"reason": proposal.rationale[:2000] or proposal.action}
    if proposal.action in ("promote", "start_abtest"):
        args["version"] = proposal.target_version
    return ACTION_TOOLS[proposal.action], args


@dataclass
class ToolBox:
    """The tools of one decision, over one situation; remembers what was called."""

    situation: Situation
    settings: Settings
    calls: list[str] = field(default_factory=list)
    proposed: Proposal | None = None

    def call(self, name: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        spec = _BY_NAME.get(name)
        if spec is None:
            raise ToolError(f"no tool {name!r}; the tools are {', '.join(_BY_NAME)}")
        try:
            parsed = spec.args.model_validate(dict(args or {}))
        except ValueError as exc:
            raise ToolError(f"{name}: {exc}") from exc
        self.calls.append(name)
        if spec.kind == "read":
            return self._read(name)
        assert spec.action is not None
        version = parsed.version if isinstance(parsed, VersionArgs) else None
        reason = parsed.reason if isinstance(parsed, ReasonArgs) else ""
        return self._propose(spec.action, reason, version)

    def _read(self, name: str) -> dict[str, Any]:
        s, settings = self.situation, self.settings
        match name:
            case "get_drift":
                return drift_view(s, settings)
            case "get_performance":
                return performance_view(s, settings)
            case "get_models":
                return models_view(s, settings)
        return history_view(s, settings)

    def _propose(self, action: Action, reason: str, version: int | None) -> dict[str, Any]:
        replaced = self.proposed
        self.proposed = Proposal(
            action=action, confidence=0.5, rationale=reason, target_version=version
        )
        blocked = Guards(self.settings).check(self.proposed, self.situation)
        answer: dict[str, Any] = {
            "proposed": action if version is None else f"{action} v{version}",
            "guard": f"would block it: {blocked}" if blocked else "none would block it",
            "next": "give your final decision (the same action, or wait)",
        }
        if replaced is not None and replaced.action != action:
            answer["replaces"] = replaced.action
        return answer
