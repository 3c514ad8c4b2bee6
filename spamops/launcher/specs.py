"""What the supervisor needs to know about a process: how to start it, when it is ready,
whether to restart it, and in which order to stop it.

Plain data, so the stack's layout (`spamops.launcher.plan`) can be read and tested
without starting anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["Backoff", "ProcessSpec", "ReadyCheck", "RestartPolicy"]

ReadyCheck = Callable[[], Awaitable[bool]]
"""Answers True once the process can do its job (an HTTP health route, a Redis PING...)."""

RestartPolicy = Literal["always", "on-failure", "never"]


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process.

    `tier` orders the shutdown: higher tiers stop first, and each tier is stopped whole
    before the next (traffic and producers, then consumers, then Redis), so nothing loses
    the service it drains into. `on_start` is told the pid of every (re)start.
    """

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    """The whole environment of the process (not added to the launcher's)."""
    ready: ReadyCheck | None = None
    restart: RestartPolicy = "always"
    tier: int = 1
    cwd: Path | None = None
    on_start: Callable[[int], None] | None = None


@dataclass(frozen=True)
class Backoff:
    """Exponential pauses between restarts of a crashing process.

    The n-th consecutive crash waits `initial_s * 2**(n-1)`, at most `max_s`; a process that
    ran `stable_after_s` before it crashed starts counting again, so one crash a day is
    restarted at once while a crash loop settles at one attempt every `max_s`.
    """

    initial_s: float = 1.0
    max_s: float = 30.0
    stable_after_s: float = 60.0

    def delay(self, consecutive_failures: int) -> float:
        exponent = max(consecutive_failures - 1, 0)
        return float(min(self.initial_s * 2.0 ** min(exponent, 30), self.max_s))
