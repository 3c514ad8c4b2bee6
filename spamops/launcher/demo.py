"""`python -m spamops.launcher.demo`: traffic that walks the whole loop (`spamops up --simulate`).

1. Wait until every consumer group the loop needs exists (`GET /dashboard/bus`).
2. Clean traffic, every message labelled: predictions, a clean drift window, a `wait`.
3. A new spam campaign (half the traffic, vocabulary the 2011 corpus lacks) until the API
   serves a retrained model: drift verdict → `retrain` decision → retraining → comparison
   → promotion → hot reload; the drift alert and the promotion alert are raised.
4. A few more campaign rounds to show the new model catching it, then a trickle of clean
   traffic so the Live page keeps moving, until stopped (SIGTERM: exit 0).

Every milestone is printed once, with the seconds since the demo started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from producers.scenarios import LabelledMessage
from producers.simulate import SimulationPlan, SimulationReport, base_pool, simulate

__all__ = ["LOOP_GROUPS", "MILESTONES", "Milestones", "main"]

LOOP_GROUPS = frozenset({"projector", "drift", "performance", "agent", "retrainer", "alert-raiser"})
MILESTONES = ("predictions", "drift verdict", "decision", "retraining", "promotion", "alert")


def _first(rows: Any, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    return next((row for row in rows if test(row)), None) if isinstance(rows, list) else None


class Milestones:
    """What the dashboard can show by now, read from the API it reads."""

    def __init__(self, client: httpx.AsyncClient, say: Callable[[str], None]) -> None:
        self.client = client
        self.say = say
        self.started = time.monotonic()
        self.reached: dict[str, float] = {}

    async def _get(self, path: str) -> Any:
        try:
            response = await self.client.get(path)
        except httpx.HTTPError:
            return None
        return response.json() if response.is_success else None

    async def _found(self) -> dict[str, str]:
        found: dict[str, str] = {}
        traffic = await self._get("/dashboard/traffic?minutes=60")
        if isinstance(traffic, dict) and traffic.get("predictions"):
            found["predictions"] = f"{traffic['predictions']} in the store"
        if drifted := _first(await self._get("/drift?limit=100"), lambda w: bool(w["drifted"])):
            found["drift verdict"] = (
                f"window of {drifted['n']} drifted, score {drifted['score']:.2f}"
            )
        if decision := _first(
            await self._get("/decisions?limit=100"), lambda d: d["action"] != "wait"
        ):
            found["decision"] = f"{decision['action']}: {decision['rationale'][:90]}"
        if run := _first(
            await self._get("/retraining/history"), lambda r: r["status"] != "requested"
        ):
            found["retraining"] = f"v{run['challenger_version']} trained ({run['status']})"
        if promotion := _first(
            await self._get("/models/history"),
            lambda m: m["kind"] == "promoted" and m["from_version"] is not None,
        ):
            found["promotion"] = (
                f"champion v{promotion['from_version']} -> v{promotion['to_version']}"
                f" by {promotion['actor']}"
            )
        if alert := _first(await self._get("/alerts?limit=20"), lambda a: True):
            found["alert"] = f"{alert['severity']}: {alert['title']}"
        return found

    async def check(self) -> bool:
        """Print milestones reached since the last check; True once all are."""
        for name, detail in (await self._found()).items():
            if name not in self.reached:
                self.reached[name] = time.monotonic() - self.started
                self.say(f"✓ {name:<13} +{self.reached[name]:5.1f} s  {detail}")
        return all(name in self.reached for name in MILESTONES)

    async def follow(self, interval_s: float = 2.0) -> None:
        while True:  # polling an HTTP API: there is no event to wait on
            if await self.check():
                break
            await asyncio.sleep(interval_s)
        self.say(
            f"the whole loop ran in {max(self.reached.values()):.0f} s: "
            + " → ".join(MILESTONES)
            + ". Open the dashboard's Drift, Decisions, Models and Alerts pages."
        )


async def _wait_for_consumers(client: httpx.AsyncClient, timeout_s: float) -> set[str]:
    """The loop's groups that do not exist yet when the time is up (empty: all do)."""
    deadline = time.monotonic() + timeout_s
    missing = set(LOOP_GROUPS)
    while missing and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            bus = (await client.get("/dashboard/bus")).json()
            # A group exists once its consumer started (it creates it before reading).
            created = {g["name"] for s in bus["streams"] for g in s["groups"]}
            missing = set(LOOP_GROUPS) - created
        if missing:
            await asyncio.sleep(1.0)
    return missing


async def _serving_version(client: httpx.AsyncClient) -> int | None:
    with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
        return int((await client.get("/ready")).json()["model"]["version"])
    return None


def _catch_rates(reports: Sequence[SimulationReport]) -> str:
    seen: dict[int, list[int]] = {}
    for report in reports:
        for version, n in report.drifted_spam.items():
            counts = seen.setdefault(version, [0, 0])
            counts[0] += report.drifted_caught[version]
            counts[1] += n
    return ", ".join(f"v{v} caught {c / n:.0%} of {n}" for v, (c, n) in sorted(seen.items()) if n)


async def run(url: str, token: str | None, base: Sequence[LabelledMessage], rate: float) -> None:
    def say(text: str) -> None:
        print(text, flush=True)

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10.0) as client:
        missing = await _wait_for_consumers(client, timeout_s=180)
        if missing:
            say(f"warning: consumer groups missing: {', '.join(sorted(missing))}")
        first = await _serving_version(client) or 1
        milestones = Milestones(client, say)
        follower = asyncio.create_task(milestones.follow())
        plan = SimulationPlan(
            url=url,
            messages=400,
            rate_per_s=rate,
            window_size=200,
            feedback_share=1.0,
            feedback_delay_s=0.5,
            concurrency=8,
            token=token,
            seed=1,
        )
        say(f"demo: 400 clean messages at {rate:.0f}/s, every one labelled (serving v{first})")
        await simulate(plan, base)
        say("demo: a new spam campaign starts (half the traffic): watch the Drift page")
        campaign = dataclasses.replace(plan, messages=200, scenario="new_campaign", onset_window=0)
        reports: list[SimulationReport] = []
        deadline = time.monotonic() + 300
        rounds_after = 0
        while rounds_after < 3 and time.monotonic() < deadline:
            seed = 100 + len(reports)
            reports.append(await simulate(dataclasses.replace(campaign, seed=seed), base))
            version = await _serving_version(client)
            rounds_after += version is not None and version != first
        say(f"demo: campaign spam {_catch_rates(reports)}")
        say("demo: clean traffic at 4/s from now on (Ctrl-C stops everything)")
        trickle = dataclasses.replace(plan, messages=240, rate_per_s=4.0, feedback_share=0.3)
        for seed in range(1000, 1_000_000):
            await simulate(dataclasses.replace(trickle, seed=seed), base)
        follower.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drive the demo traffic through the API.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=80.0, help="requests per second")
    args = parser.parse_args(argv)
    base = base_pool(args.dataset)

    async def until_signalled() -> None:
        task = asyncio.create_task(run(args.url, os.environ.get("SPAMOPS_TOKEN"), base, args.rate))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(until_signalled())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
