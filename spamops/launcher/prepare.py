"""What must exist before any service starts: the corpus, the store's schema, a champion.

Shared by `spamops up` (steps run under the supervisor, in the combined log) and
`spamops init` (the compose file's one-shot init service). Each step is the ordinary CLI
command, so it does exactly what an operator's own `spamops store upgrade` would. Safe to
repeat: the schema upgrade is a no-op at head, and training happens only when no champion
is registered.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence

from spamops.settings import Settings

__all__ = ["PrepareError", "StepRunner", "champion_version", "prepare", "spamops_command"]

StepRunner = Callable[[str, Sequence[str]], Awaitable[int]]
"""Runs a named one-shot command to completion; its exit code."""


class PrepareError(RuntimeError):
    """A preparation step failed; its output above says why."""


def spamops_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "spamops", *args]


def champion_version(settings: Settings) -> int | None:
    """The registered champion's version, asked of MLflow in a child process (this one
    never imports MLflow), which also puts the model in the local cache for the API."""
    from ml.isolated_registry import IsolatedRegistry

    return IsolatedRegistry(settings).champion_version()


async def _step(run: StepRunner, name: str, *args: str) -> None:
    code = await run(name, spamops_command(*args))
    if code != 0:
        raise PrepareError(f"`spamops {' '.join(args)}` failed (exit code {code})")


async def prepare(settings: Settings, run: StepRunner, say: Callable[[str], None]) -> None:
    if not settings.dataset_path.exists():
        say(f"no corpus at {settings.dataset_path}: fetching it")
        await _step(run, "data-fetch", "data", "fetch")
    from ml.errors import MLError

    upgrade = asyncio.create_task(_step(run, "store-upgrade", "store", "upgrade"))
    try:
        version = await asyncio.to_thread(champion_version, settings)
    except MLError as exc:
        upgrade.cancel()
        raise PrepareError(f"cannot ask the model registry for a champion: {exc}") from None
    finally:
        await asyncio.gather(upgrade, return_exceptions=True)
    upgrade.result()
    if version is None:
        say("no champion registered yet: training the first model (takes 10-30 s)")
        await _step(run, "train", "train")
    else:
        say(f"champion: {settings.model.registered_name} v{version}")
