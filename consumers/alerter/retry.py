"""Delivering one alert on one channel: bounded attempts, a timeout each, backoff between.

Every channel goes through `deliver`, so every channel behaves the same way: at most
`max_in_flight` attempts at once (a pause between attempts holds no slot), each bounded by
`timeout_s` from taking its slot, exponential backoff with jitter between attempts (or the
server's `Retry-After`, capped by `backoff_max_s`), and no retry at all for errors that
retrying cannot fix. The result is an `Outcome`, never an exception: a channel that fails is
reported, not raised.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from consumers.alerter.channels.base import Channel
from consumers.alerter.errors import DeliveryError
from schemas.events import AlertRaised
from spamops.settings import AlertChannelSettings

__all__ = ["Outcome", "backoff_delay", "budget_s", "deliver"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How delivering one alert on one channel ended."""

    channel: str
    ok: bool
    attempts: int
    latency_ms: float
    """From asking the channel to its last answer: queueing, attempts and backoff."""
    error: str | None = None


def backoff_delay(failed_attempt: int, config: AlertChannelSettings) -> float:
    """Pause after the n-th failed attempt: backoff_s · 2^(n-1), capped, with jitter."""
    ceiling = min(config.backoff_max_s, config.backoff_s * 2 ** (failed_attempt - 1))
    return float(ceiling * random.uniform(0.5, 1.0))


def budget_s(config: AlertChannelSettings) -> float:
    """The longest `deliver` takes when slots are free: every attempt and every pause."""
    pauses = sum(
        min(config.backoff_max_s, config.backoff_s * 2**i) for i in range(config.attempts - 1)
    )
    return float(config.attempts * config.timeout_s + pauses)


async def deliver(channel: Channel, event: AlertRaised) -> Outcome:
    config = channel.config
    started = time.perf_counter()
    error = "not attempted"
    attempt = 0
    while attempt < config.attempts:
        attempt += 1
        wait: float | None = None
        retryable = True
        try:
            async with channel.in_flight, asyncio.timeout(config.timeout_s):
                await channel.send(event)
            return Outcome(channel.name, True, attempt, _ms_since(started))
        except DeliveryError as exc:
            error, retryable, wait = str(exc), exc.retryable, exc.retry_after_s
        except TimeoutError:
            error = (
                f"{channel.name}: no answer within {config.timeout_s:g} s ({channel.env}TIMEOUT_S)"
            )
        except Exception as exc:  # a library error the channel did not translate
            error = channel.redact(f"{channel.name}: {type(exc).__name__}: {exc}")
        log.warning(
            "alert %s on %s: attempt %d/%d failed: %s",
            event.id,
            channel.name,
            attempt,
            config.attempts,
            error,
        )
        if not retryable or attempt >= config.attempts:
            break
        pause = backoff_delay(attempt, config) if wait is None else wait
        await asyncio.sleep(min(pause, config.backoff_max_s))  # without holding a slot
    return Outcome(channel.name, False, max(attempt, 1), _ms_since(started), error)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
