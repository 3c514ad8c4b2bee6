"""The rule policy (with the hard guards) against the labelled scenario suite."""

from __future__ import annotations

from collections import Counter
from typing import get_args

import pytest

from consumers.agent.rules import RulePolicy
from consumers.agent.tools import ToolBox, as_tool_call
from schemas.decisions import Action
from spamops.settings import Settings
from tests.consumers.agent.scenarios import Scenario, build, evaluate, load

SCENARIOS = load()


def test_the_suite_is_large_varied_and_well_formed() -> None:
    assert len(SCENARIOS) >= 150
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)
    actions = Counter(s.expect for s in SCENARIOS)
    assert set(actions) == set(get_args(Action)), actions
    for s in SCENARIOS:
        assert s.why, s.id
        assert (s.target is not None) == (s.expect in ("promote", "start_abtest")), s.id
        events, situation = build(s)
        assert situation.trigger_id == events[-1].id or "decided_on_trigger" in s.given, s.id


async def test_rule_policy_agrees_with_the_operator(settings: Settings) -> None:
    result = await evaluate(RulePolicy(settings), settings, SCENARIOS)
    print(f"\nrule policy agrees on {result.agreed}/{result.n} = {result.accuracy:.1%}")
    for s, got in result.misses:
        print(
            f"  {s.id}: expected {s.expect} {s.target or ''}, got {got.action} {got.target_version}"
        )
    assert result.accuracy >= 0.99, [s.id for s, _ in result.misses]


@pytest.mark.parametrize("scenario", SCENARIOS[::7], ids=lambda s: s.id)
def test_rule_decisions_are_the_same_tool_calls(scenario: Scenario, settings: Settings) -> None:
    """Every rule proposal is one of the LLM's action tool calls (wait: no call)."""
    _, situation = build(scenario)
    proposal = RulePolicy(settings).decide(situation)
    call = as_tool_call(proposal)
    box = ToolBox(situation, settings)
    if call is None:
        assert proposal.action == "wait"
        return
    box.call(*call)
    assert box.proposed is not None
    assert (box.proposed.action, box.proposed.target_version) == (
        proposal.action,
        proposal.target_version,
    )
