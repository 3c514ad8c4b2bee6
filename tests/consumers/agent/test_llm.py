"""The LLM policy end to end over scripted chat models: tools, guards, fallback, provenance."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from datetime import timedelta

import pytest
from pydantic import ValidationError

from consumers.agent.deliberation import deliberate, make_policy
from consumers.agent.guards import Guards
from consumers.agent.llm import LlmPolicy
from consumers.agent.prompt import PROMPT_VERSION, SYSTEM_PROMPT
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation, fold
from consumers.agent.tools import as_tool_call
from schemas.events import Event
from spamops.settings import AgentSettings, Settings
from tests.consumers.agent import builders as b
from tests.consumers.agent.scenarios import Evaluation, build, load
from tests.consumers.agent.scripted import (
    FailingChatModel,
    HangingChatModel,
    answer,
    call,
    scripted,
)

# The prompt's text is pinned to its version: edit the prompt, bump PROMPT_VERSION, update this.
PINNED = ("decide-v1", "6ddd94fe821bf725")


def situation(*events: Event) -> Situation:
    s = Situation(now=b.NOW - timedelta(days=3))
    for e in events:
        s = fold(s, e)
    return s


@pytest.fixture
def llm_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(agent=AgentSettings(policy="llm", llm_model="scripted:test"))


async def test_tools_run_and_the_decision_carries_its_provenance(llm_settings: Settings) -> None:
    model = scripted(
        call("get_drift"),
        call("get_history"),
        call("request_retraining", reason="drift 0.40 above 0.15"),
        answer("retrain", 0.9, "drift score 0.40 above the trigger 0.15"),
    )
    s = situation(b.drift(0.4))
    decision = await deliberate(LlmPolicy(llm_settings, chat_model=model), Guards(llm_settings), s)
    assert decision.action == "retrain" and decision.blocked_by is None
    assert decision.policy == "llm" and decision.llm_model == "scripted:test"
    assert decision.prompt_version == PROMPT_VERSION and not decision.fell_back
    assert "[tools: get_drift, get_history, request_retraining]" in decision.rationale
    assert decision.input_event_ids[0] == s.trigger_id


async def test_promote_without_support_is_blocked(llm_settings: Settings) -> None:
    model = scripted(call("promote", version=2, reason="v2 feels better"), answer("promote"))
    s = situation(b.compared(1, 2, "keep"), b.drift(0.05))
    decision = await deliberate(LlmPolicy(llm_settings, chat_model=model), Guards(llm_settings), s)
    assert decision.action == "wait" and not decision.fell_back
    assert "no comparison supports promoting v2" in (decision.blocked_by or "")
    assert decision.target_version == 2


async def test_acting_twice_on_one_input_is_blocked(llm_settings: Settings) -> None:
    """The LLM re-proposes an A/B test of a comparison that already led to one."""
    comparison = b.compared(1, 2, "keep", at=b.NOW - timedelta(hours=5))
    earlier = b.decision_made("start_abtest", (comparison.id,), at=b.NOW - timedelta(hours=5))
    ended = b.abtest_concluded("none", at=b.NOW - timedelta(hours=1), challenger=2)
    s = situation(b.promoted(1, None), comparison, earlier, ended, b.drift(0.05))
    model = scripted(call("start_abtest", version=2, reason="try again"), answer("start_abtest"))
    decision = await deliberate(LlmPolicy(llm_settings, chat_model=model), Guards(llm_settings), s)
    assert decision.action == "wait"
    assert (decision.blocked_by or "").startswith("already acted")


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (FailingChatModel(), "ConnectionError: provider unreachable"),
        (scripted("I think you should retrain."), "invalid output: the model ended without"),
        (scripted(answer("retrain", confidence=2.0)), "invalid output"),
        (
            scripted(
                call("request_retraining", reason="drift"), answer("promote", target_version=2)
            ),
            "invalid output: the final decision is promote, but the action tool called was retrain",
        ),
        (scripted(answer("start_abtest")), "invalid output: start_abtest without a target"),
    ],
    ids=["error", "no-answer", "invalid-answer", "contradiction", "no-target"],
)
async def test_any_failure_falls_back_to_the_rules(
    llm_settings: Settings, model: object, reason: str
) -> None:
    s = situation(b.drift(0.4))
    policy = LlmPolicy(llm_settings, chat_model=model)  # type: ignore[arg-type]
    decision = await deliberate(policy, Guards(llm_settings), s)
    rule = RulePolicy(llm_settings).decide(s)
    assert decision.fell_back and (decision.fallback_reason or "").startswith(reason)
    assert decision.policy == "llm" and decision.prompt_version == PROMPT_VERSION
    assert (decision.action, decision.rationale) == (rule.action, rule.rationale)


async def test_timeout_falls_back(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        agent=AgentSettings(policy="llm", llm_model="scripted:slow", llm_timeout_s=0.05)
    )
    policy = LlmPolicy(settings, chat_model=HangingChatModel())
    choice = await policy.choose(situation(b.performance(0.5)))
    assert choice.fell_back and (choice.fallback_reason or "").startswith("timeout")
    assert choice.proposal.action == "retrain"


async def test_too_many_steps_fall_back(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        agent=AgentSettings(policy="llm", llm_model="scripted:loop", llm_max_steps=2)
    )
    model = scripted(*(call("get_drift") for _ in range(10)))
    choice = await LlmPolicy(settings, chat_model=model).choose(situation(b.drift(0.02)))
    assert choice.fell_back and "Recursion" in (choice.fallback_reason or "")


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_openai") is not None,
    reason="the llm extra is installed: this test is about running without it",
)
async def test_a_missing_provider_package_falls_back(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(agent=AgentSettings(policy="llm", llm_model="openai:gpt-4o-mini"))
    choice = await make_policy(settings).choose(situation(b.drift(0.4)))
    assert choice.fell_back and "spamops[llm]" in (choice.fallback_reason or "")
    assert choice.llm_model == "openai:gpt-4o-mini" and choice.proposal.action == "retrain"


async def test_the_whole_suite_through_the_llm_path(llm_settings: Settings) -> None:
    """A model that reads every tool, then proposes what the rules would: the LLM machinery
    (tools, action recording, structured answer, resolution, guards) loses nothing."""
    guards, rules, result = Guards(llm_settings), RulePolicy(llm_settings), Evaluation()
    reads = ("get_drift", "get_performance", "get_models", "get_history")
    for s in load():
        _, at = build(s)
        proposal = rules.decide(at)
        turns = [call(name) for name in reads]
        tool = as_tool_call(proposal)
        if tool is not None:
            turns.append(call(tool[0], **tool[1]))
        turns.append(answer(proposal.action, target_version=proposal.target_version))
        policy = LlmPolicy(llm_settings, chat_model=scripted(*turns))
        result.add(s, await deliberate(policy, guards, at))
    assert result.fell_back == 0, result.fallback_reasons
    assert result.agreed == result.n, [s.id for s, _ in result.misses]


def test_policy_comes_from_settings(
    settings: Settings, llm_settings: Settings, make_settings: Callable[..., Settings]
) -> None:
    assert isinstance(make_policy(settings), RulePolicy)
    assert isinstance(make_policy(llm_settings), LlmPolicy)
    with pytest.raises(ValidationError, match="LLM_MODEL"):
        make_settings(agent={"policy": "llm"})
    assert make_settings(agent={"llm_temperature": "none"}).agent.llm_temperature is None


def test_the_prompt_is_pinned_to_its_version() -> None:
    digest = hashlib.sha256(SYSTEM_PROMPT.encode()).hexdigest()[:16]
    assert (PROMPT_VERSION, digest) == PINNED, f"prompt changed: bump PROMPT_VERSION ({digest})"
