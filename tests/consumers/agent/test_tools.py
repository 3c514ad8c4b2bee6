"""The shared tool set: read views of the situation, action tools that only record."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consumers.agent.guards import Guards
from consumers.agent.proposal import Proposal
from consumers.agent.situation import Situation, fold
from consumers.agent.tools import ACTION_TOOLS, TOOLS, ToolBox, ToolError, as_tool_call
from schemas.events import Event
from spamops.settings import Settings
from tests.consumers.agent import builders as b


def box(settings: Settings, *events: Event) -> ToolBox:
    s = Situation(now=b.NOW - timedelta(days=3))
    for e in events:
        s = fold(s, e)
    return ToolBox(s, settings)


def test_the_tool_set_is_the_one_the_design_names() -> None:
    names = [t.name for t in TOOLS]
    assert names == [
        "get_drift",
        "get_performance",
        "get_models",
        "get_history",
        "request_retraining",
        "raise_alert",
        "start_abtest",
        "promote",
        "rollback",
    ]
    assert set(ACTION_TOOLS) == {"retrain", "alert", "start_abtest", "promote", "rollback"}


def test_read_tools_show_facts_beside_their_thresholds(settings: Settings) -> None:
    tools = box(
        settings,
        b.promoted(2, 1, at=b.NOW - timedelta(hours=3)),
        b.retrain_requested(at=b.NOW - timedelta(minutes=30)),
        b.compared(2, 3, "keep", mcc_gain=0.01),
        b.performance(0.91, version=2, at=b.NOW - timedelta(minutes=5)),
        b.drift(0.3, version=2),
    )
    drift = tools.call("get_drift")
    assert drift["score"] == 0.3 and drift["retrain_trigger_score"] == 0.15
    assert drift["score_above_trigger"] and drift["is_trigger"] and drift["note"] is None
    perf = tools.call("get_performance")
    assert perf["below_floor"] and perf["accuracy_floor"] == 0.93 and not perf["is_trigger"]
    models = tools.call("get_models")
    assert (models["champion"], models["previous_champion"], models["challenger"]) == (2, 1, 3)
    assert models["within_rollback_window"] and models["champion_promoted_hours_ago"] == 3.0
    assert models["latest_comparison"]["retrainer_verdict"] == "keep"
    history = tools.call("get_history")
    assert history["retrains_last_24h"] == 1 and history["cooldown_left_hours"] == 0.5
    assert tools.calls == ["get_drift", "get_performance", "get_models", "get_history"]
    json.dumps([drift, perf, models, history])  # what the model reads is plain JSON


def test_a_stale_trigger_is_named_as_such(settings: Settings) -> None:
    tools = box(settings, b.promoted(2, 1), b.drift(0.5, version=1))
    view = tools.call("get_drift")
    assert not view["measured"] and "no longer serves" in view["note"]


def test_action_tools_record_and_warn_but_do_nothing(settings: Settings) -> None:
    tools = box(settings, b.compared(1, 2, "keep"), b.drift(0.05))
    said = tools.call("promote", {"version": 2, "reason": "v2 is newer"})
    assert said["proposed"] == "promote v2" and said["guard"].startswith("would block it: no comp")
    assert tools.proposed == Proposal(
        action="promote", confidence=0.5, rationale="v2 is newer", target_version=2
    )
    again = tools.call("raise_alert", {"reason": "unsure"})
    assert again["replaces"] == "promote" and again["guard"] == "none would block it"
    assert tools.proposed is not None and tools.proposed.action == "alert"


def test_bad_calls_are_errors(settings: Settings) -> None:
    tools = box(settings, b.drift(0.4))
    with pytest.raises(ToolError, match="no tool 'deploy'"):
        tools.call("deploy")
    with pytest.raises(ToolError, match="promote"):
        tools.call("promote", {"version": 0, "reason": "x"})
    with pytest.raises(ToolError):
        tools.call("get_drift", {"verbose": True})
    assert tools.calls == []


def test_every_action_is_a_tool_call(settings: Settings) -> None:
    s = box(settings, b.compared(1, 2, "promote"), b.drift(0.4)).situation
    for action, version in [
        ("retrain", None),
        ("alert", None),
        ("rollback", None),
        ("promote", 2),
        ("start_abtest", 2),
    ]:
        proposal = Proposal(action=action, confidence=1, rationale="r", target_version=version)  # type: ignore[arg-type]
        call = as_tool_call(proposal)
        assert call is not None and call[0] == ACTION_TOOLS[proposal.action]
        tools = ToolBox(s, settings)
        tools.call(*call)
        assert tools.proposed is not None
        assert (tools.proposed.action, tools.proposed.target_version) == (action, version)
        blocked = Guards(settings).check(proposal, s)
        assert (blocked is None) == ("none" in tools.call(*call)["guard"])
    assert as_tool_call(Proposal(action="wait", confidence=1, rationale="r")) is None
