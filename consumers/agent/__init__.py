"""The decision agent: situation, policies (rules; an LLM later), hard guards, consumer."""

from consumers.agent.consumer import DecisionAgent, make_agent
from consumers.agent.guards import Guards
from consumers.agent.proposal import Policy, Proposal
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation, fold

__all__ = [
    "DecisionAgent",
    "Guards",
    "Policy",
    "Proposal",
    "RulePolicy",
    "Situation",
    "fold",
    "make_agent",
]
