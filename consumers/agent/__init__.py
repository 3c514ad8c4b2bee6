"""The decision agent: situation, tools, policies (rules, an LLM), hard guards, consumer.

The LLM policy lives in `consumers.agent.llm` and is not imported here: LangChain loads only
where `SPAMOPS_AGENT__POLICY=llm`.
"""

from consumers.agent.consumer import DecisionAgent, make_agent
from consumers.agent.deliberation import deciding, deliberate, make_policy
from consumers.agent.guards import Guards, basis
from consumers.agent.proposal import Choice, DecidingPolicy, Policy, Proposal
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import TRIGGER_TYPES, PastDecision, Situation, fold
from consumers.agent.tools import ACTION_TOOLS, TOOLS, ToolBox, ToolError, ToolSpec, as_tool_call

__all__ = [
    "ACTION_TOOLS",
    "TOOLS",
    "TRIGGER_TYPES",
    "Choice",
    "DecidingPolicy",
    "DecisionAgent",
    "Guards",
    "PastDecision",
    "Policy",
    "Proposal",
    "RulePolicy",
    "Situation",
    "ToolBox",
    "ToolError",
    "ToolSpec",
    "as_tool_call",
    "basis",
    "deciding",
    "deliberate",
    "fold",
    "make_agent",
    "make_policy",
]
