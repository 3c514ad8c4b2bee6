"""The LLM policy: a LangChain tool-calling agent over the chat model named in settings.

The model (`provider:name`, e.g. `openai:gpt-4o-mini`, `anthropic:claude-3-5-haiku-latest`,
`ollama:llama3.1`) is built by `init_chat_model` on first use, so the provider packages (the
`llm` extra) are needed only where this policy runs. The agent reads the situation through
the shared tools, may record one action, and must end with a structured `AgentDecision`.

Anything that goes wrong (no model configured, provider package missing, network error,
timeout, a final answer that does not validate or contradicts the action it recorded) makes
the rule policy decide instead; the decision then records `fell_back` and the reason. The
hard guards apply afterwards either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from langchain.agents import create_agent
from langchain.agents.structured_output import StructuredOutputError, ToolStrategy
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from consumers.agent.prompt import PROMPT_VERSION, SYSTEM_PROMPT, render_request
from consumers.agent.proposal import Choice, Policy, Proposal
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation
from consumers.agent.tools import TOOLS, ToolBox, ToolSpec
from schemas.decisions import Action
from spamops.settings import Settings

__all__ = ["AgentDecision", "InvalidDecisionError", "LlmPolicy", "NoModelError", "resolve"]

log = logging.getLogger(__name__)

_VERSIONED: tuple[Action, ...] = ("promote", "start_abtest")


class AgentDecision(BaseModel):
    """Your final decision: call this once, last, after any read and action tools."""

    action: Action = Field(description="retrain, wait, alert, promote, rollback or start_abtest.")
    target_version: int | None = Field(
        default=None, ge=1, description="For promote and start_abtest: the model version."
    )
    confidence: float = Field(ge=0, le=1, description="How sure you are, 0 to 1.")
    rationale: str = Field(
        min_length=1, max_length=2000, description="Why, citing the figures you read."
    )


class InvalidDecisionError(ValueError):
    """The model's final answer cannot be executed as it stands (the rule policy decides)."""


class NoModelError(RuntimeError):
    """The LLM policy is chosen but no model is named. Fix: set SPAMOPS_AGENT__LLM_MODEL."""


def resolve(answer: AgentDecision, box: ToolBox) -> Proposal:
    """The proposal of a final answer, checked against the action tool the model called."""
    recorded = box.proposed
    target = answer.target_version if answer.action in _VERSIONED else None
    if answer.action != "wait" and recorded is not None:
        if recorded.action != answer.action:
            raise InvalidDecisionError(
                f"the final decision is {answer.action}, but the action tool called was "
                f"{recorded.action}"
            )
        if answer.action in _VERSIONED:
            if target is None:
                target = recorded.target_version
            elif target != recorded.target_version:
                raise InvalidDecisionError(
                    f"{answer.action} v{target} in the final decision, "
                    f"v{recorded.target_version} in the tool call"
                )
    if answer.action in _VERSIONED and target is None:
        raise InvalidDecisionError(f"{answer.action} without a target version")
    rationale = f"{answer.rationale} [tools: {', '.join(box.calls) or 'none'}]"
    return Proposal(
        action=answer.action,
        confidence=answer.confidence,
        rationale=rationale[:4000],
        target_version=target,
    )


def _tool(box: ToolBox, spec: ToolSpec) -> BaseTool:
    async def run(**kwargs: Any) -> str:
        return json.dumps(box.call(spec.name, kwargs), default=str)

    return StructuredTool.from_function(
        coroutine=run, name=spec.name, description=spec.description, args_schema=spec.args
    )


class LlmPolicy:
    name = "llm"

    def __init__(
        self,
        settings: Settings,
        *,
        chat_model: BaseChatModel | None = None,
        fallback: Policy | None = None,
    ) -> None:
        self.settings = settings
        self.agent = settings.agent
        self.model_name = settings.agent.llm_model or (
            type(chat_model).__name__ if chat_model is not None else None
        )
        self.fallback = fallback or RulePolicy(settings)
        self._chat_model = chat_model

    def _model(self) -> BaseChatModel:
        if self._chat_model is None:
            if not self.agent.llm_model:
                raise NoModelError("no chat model configured: set SPAMOPS_AGENT__LLM_MODEL")
            from langchain.chat_models import init_chat_model

            options: dict[str, Any] = {}
            if self.agent.llm_temperature is not None:
                options["temperature"] = self.agent.llm_temperature
            try:
                self._chat_model = init_chat_model(self.agent.llm_model, **options)
            except ImportError as exc:
                raise ImportError(
                    f"{exc} (install the provider packages: pip install 'spamops[llm]')"
                ) from exc
        return self._chat_model

    async def _ask(self, box: ToolBox) -> AgentDecision:
        graph = create_agent(
            self._model(),
            [_tool(box, spec) for spec in TOOLS],
            system_prompt=SYSTEM_PROMPT,
            response_format=ToolStrategy(AgentDecision, handle_errors=False),
        )
        message = HumanMessage(render_request(box.situation, box.settings))
        config = RunnableConfig(recursion_limit=2 * self.agent.llm_max_steps + 1)
        async with asyncio.timeout(self.agent.llm_timeout_s):
            result = await graph.ainvoke({"messages": [message]}, config=config)
        answer = result.get("structured_response")
        if not isinstance(answer, AgentDecision):
            raise InvalidDecisionError("the model ended without calling AgentDecision")
        return answer

    async def choose(self, situation: Situation) -> Choice:
        box = ToolBox(situation, self.settings)
        try:
            proposal = resolve(await self._ask(box), box)
        except TimeoutError:
            reason = f"timeout: no decision within {self.agent.llm_timeout_s:g} s"
        except (InvalidDecisionError, StructuredOutputError) as exc:
            reason = f"invalid output: {exc}"
        except Exception as exc:  # any LLM failure: the rule policy decides
            reason = f"{type(exc).__name__}: {exc}"
        else:
            return Choice(
                proposal=proposal,
                policy="llm",
                llm_model=self.model_name,
                prompt_version=PROMPT_VERSION,
            )
        reason = " ".join(reason.split())[:500]
        log.warning("LLM policy fell back to the rules on %s: %s", situation.trigger_id, reason)
        return Choice(
            proposal=self.fallback.decide(situation),
            policy="llm",
            llm_model=self.model_name,
            prompt_version=PROMPT_VERSION,
            fell_back=True,
            fallback_reason=reason,
        )
