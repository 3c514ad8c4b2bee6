"""What a channel is: a named destination that takes alerts of some severities.

A channel sends one alert in one attempt and raises `DeliveryError` when that fails;
retries, timeouts and concurrency limits are applied around it (`consumers.alerter.retry`),
the same way for every channel. Helpers shared by the channels live here too: severity
order, the facts every message shows, and turning an HTTP status into a `DeliveryError`.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import ClassVar

from consumers.alerter.errors import DeliveryError
from schemas.common import Severity
from schemas.events import AlertRaised
from spamops.settings import AlertChannelSettings

__all__ = [
    "SEVERITY_RANK",
    "Channel",
    "facts",
    "http_failure",
    "retry_after",
    "severity_label",
]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
_MARKS: dict[str, str] = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}
_RETRYABLE_STATUS = frozenset({408, 425, 429})


class Channel(ABC):
    """One destination. Subclasses set `name`, implement `send`, and redact their secrets."""

    name: ClassVar[str]

    def __init__(self, config: AlertChannelSettings) -> None:
        self.config = config
        self.in_flight = asyncio.Semaphore(config.max_in_flight)

    def accepts(self, severity: Severity) -> bool:
        """Routing: a channel takes alerts at or above its `min_severity`."""
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.config.min_severity]

    @property
    def env(self) -> str:
        """Prefix of this channel's environment variables, for messages that say what to fix."""
        return f"SPAMOPS_ALERTS__{self.name.upper()}__"

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Open connections or pools; `send` opens lazily if this was not called."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `open` made."""

    @abstractmethod
    async def send(self, event: AlertRaised) -> None:
        """Deliver once; raise `DeliveryError` (or any exception) when that fails."""

    def redact(self, text: str) -> str:
        """`text` without this channel's secrets, for errors and logs."""
        return text


def severity_label(severity: Severity) -> str:
    return f"{_MARKS[severity]} {severity.upper()}"


def facts(event: AlertRaised) -> list[tuple[str, str]]:
    """The reference facts every message carries, as (name, value) pairs."""
    alert = event.payload
    rows = [
        ("severity", alert.severity),
        ("raised", f"{event.occurred_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("source", event.source),
        ("alert id", str(event.id)),
        ("dedupe key", alert.dedupe_key),
    ]
    if alert.source_event_id is not None:
        rows.append(("source event", str(alert.source_event_id)))
    rows.extend((name, value) for name, value in sorted(alert.labels.items()))
    return rows


def retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (the delta-seconds form; dates are ignored)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def http_failure(
    channel: Channel, status: int, body: str, retry_after_s: float | None = None
) -> DeliveryError:
    """A `DeliveryError` for an HTTP answer that is not a success.

    408, 425, 429 and 5xx are worth retrying; any other 4xx means the request or the URL is
    wrong, so retrying cannot help.
    """
    detail = channel.redact(" ".join(body.split())[:200]) or "(empty body)"
    if status in _RETRYABLE_STATUS or status >= 500:
        return DeliveryError(f"{channel.name}: HTTP {status} {detail}", retry_after_s=retry_after_s)
    return DeliveryError(
        f"{channel.name}: HTTP {status} {detail}: the request was refused and retrying will not "
        f"help; check {channel.env}* (a revoked or mistyped URL, a wrong secret)",
        retryable=False,
    )
