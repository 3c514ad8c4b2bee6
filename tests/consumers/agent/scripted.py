"""Chat models for LLM-policy tests: scripted tool calls, failures and hangs; no network."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

__all__ = [
    "FailingChatModel",
    "HangingChatModel",
    "ScriptedChatModel",
    "answer",
    "call",
    "scripted",
]


def call(name: str, **args: Any) -> AIMessage:
    """A model turn that calls one tool."""
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": f"call-{uuid.uuid4().hex[:8]}"}]
    )


def answer(
    action: str, confidence: float = 0.8, rationale: str = "as the figures say", **extra: Any
) -> AIMessage:
    """The final structured decision (the `AgentDecision` tool call)."""
    return call("AgentDecision", action=action, confidence=confidence, rationale=rationale, **extra)


class ScriptedChatModel(GenericFakeChatModel):
    """Replies with its script, turn by turn; binding tools changes nothing."""

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self


def scripted(*turns: AIMessage | str) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(turns))


class FailingChatModel(BaseChatModel):
    """A provider that is down."""

    @property
    def _llm_type(self) -> str:
        return "failing"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ConnectionError("provider unreachable")


class HangingChatModel(FailingChatModel):
    """A provider that never answers."""

    @property
    def _llm_type(self) -> str:
        return "hanging"

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await asyncio.sleep(30)
        raise AssertionError("the timeout should have stopped this")
