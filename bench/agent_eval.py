"""Agent decisions against the labelled scenario suite (tests/consumers/agent/scenarios.jsonl).

Every scenario is decided as the running agent decides: the policy proposes, the hard guards
may overrule, and the final action (and target version) is compared with the operator's
label. Accuracy target: > 95% (the seed); the rule policy is held to ≥ 99% by the tests.

`--policy rule|llm` and `--model provider:name` choose what is measured; by default
whatever `SPAMOPS_AGENT__POLICY` / `SPAMOPS_AGENT__LLM_MODEL` configure. With `llm` but no
model configured, the rule policy is evaluated, and the output says so. For an LLM the
figures also count fallbacks (the rules decided) and give the accuracy of the model's own
answers. Thresholds are always the defaults the labels assume. `--quick` evaluates an
LLM on a stratified subset (every 5th scenario of each expected action), 8 at once, each
bounded to 12 s, to stay within 60 s; the rule policy always runs the whole suite (it takes
well under a second). `--concurrency 1` suits a local model that serves one request at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/agent_eval.py`
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import asyncio
import logging
import math
import time
from collections import defaultdict
from typing import Any

from pydantic import ValidationError

from bench.harness import machine, write_result
from consumers.agent.deliberation import make_policy
from consumers.agent.prompt import PROMPT_VERSION
from spamops.settings import AgentSettings, RetrainSettings, Settings, load_settings
from tests.consumers.agent.scenarios import Evaluation, Scenario, evaluate, load

_TARGET = 0.95
_QUICK_TIMEOUT_S = 12.0


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="finish within 60 s, same keys")
    parser.add_argument("--policy", choices=("rule", "llm"), default=None)
    parser.add_argument("--model", default=None, help="provider:name, e.g. openai:gpt-4o-mini")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per LLM decision")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="LLM decisions at once (1 for a local model)",
    )
    return parser.parse_args(argv)


def _agent(args: argparse.Namespace) -> tuple[AgentSettings, str | None]:
    """The agent settings to evaluate, and a note when they are not what was asked for."""
    configured: AgentSettings | None = None
    if args.policy is None or args.model is None:
        try:
            configured = load_settings().agent
        except ValidationError as exc:
            print(f"settings do not load, using defaults: {exc.errors()[0]['msg']}")
    policy = args.policy or (configured.policy if configured else "rule")
    model = args.model or (configured.llm_model if configured else None)
    timeout = args.timeout or (configured.llm_timeout_s if configured else 20.0)
    if args.quick:
        timeout = min(timeout, _QUICK_TIMEOUT_S)
    if policy == "llm" and not model:
        note = "no chat model configured (--model or SPAMOPS_AGENT__LLM_MODEL): the rule policy"
        return AgentSettings(), note
    if policy == "rule":
        return AgentSettings(), "the rule policy (deterministic, no network)"
    return AgentSettings(policy="llm", llm_model=model, llm_timeout_s=timeout), None


def _subset(scenarios: list[Scenario]) -> list[Scenario]:
    by_action: dict[str, list[Scenario]] = defaultdict(list)
    for s in scenarios:
        by_action[s.expect].append(s)
    return [s for group in by_action.values() for s in group[::5]]


def _figures(result: Evaluation) -> dict[str, Any]:
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for (expected, decided), n in sorted(result.confusion.items()):
        confusion[expected][decided] = n
    per_action = {
        expected: {
            "n": sum(row.values()),
            "correct": row.get(expected, 0),
            "accuracy": round(row.get(expected, 0) / sum(row.values()), 4),
        }
        for expected, row in confusion.items()
    }
    own = result.own_accuracy
    return {
        "scenarios": result.n,
        "agreed": result.agreed,
        "accuracy": round(result.accuracy, 4),
        "fell_back": result.fell_back,
        "accuracy_of_own_answers": None if math.isnan(own) else round(own, 4),
        "fallback_reasons": dict(result.fallback_reasons.most_common(5)),
        "per_action": per_action,
        "confusion": dict(confusion),
        "misses": [
            {"id": s.id, "expected": s.expect, "decided": d.action, "blocked_by": d.blocked_by}
            for s, d in result.misses[:30]
        ],
    }


async def _run(agent: AgentSettings, quick: bool, concurrency: int) -> Evaluation:
    # The thresholds the labels assume, whatever the environment says.
    settings = Settings(_env_file=None, env="development", retrain=RetrainSettings(), agent=agent)
    scenarios = load()
    if quick and agent.policy == "llm":
        scenarios = _subset(scenarios)
    return await evaluate(make_policy(settings), settings, scenarios, concurrency)


def _print(out: dict[str, Any]) -> None:
    keys = ("policy", "model", "prompt_version", "scenarios", "agreed", "accuracy", "fell_back")
    for key in (*keys, "accuracy_of_own_answers"):
        print(f"{key:<24}  {out[key]}")
    for action, row in out["per_action"].items():
        print(f"  {action:<13} {row['correct']:>3}/{row['n']:<3} {row['accuracy']:.1%}")
    for miss in out["misses"]:
        print(f"  miss {miss['id']}: expected {miss['expected']}, decided {miss['decided']}")
    for reason, n in out["fallback_reasons"].items():
        print(f"  fell back {n}x: {reason}")
    print(f"{'duration_s':<24}  {out['duration_s']}")


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    logging.getLogger("consumers.agent.llm").setLevel(logging.ERROR)  # fallbacks are counted
    agent, note = _agent(args)
    if note:
        print(f"evaluating {note}")
    started = time.perf_counter()
    result = asyncio.run(_run(agent, args.quick, max(1, args.concurrency)))
    out: dict[str, Any] = {
        "policy": agent.policy,
        "model": agent.llm_model,
        "prompt_version": PROMPT_VERSION if agent.policy == "llm" else None,
        "evaluated": note or f"the LLM policy over {agent.llm_model}",
        **_figures(result),
        "duration_s": round(time.perf_counter() - started, 2),
        "targets": {"accuracy": _TARGET},
        "quick": args.quick,
        "machine": machine(),
    }
    _print(out)
    if agent.policy == "llm" and result.fell_back == result.n:
        print("every decision fell back to the rules: the LLM was NOT measured")
    else:
        ok = result.accuracy > _TARGET
        print(f"target {'met' if ok else 'NOT met'}: accuracy > {_TARGET:.0%}")
    write_result("agent", out)


if __name__ == "__main__":
    main()
