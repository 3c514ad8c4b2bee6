"""The alerter's errors: one root, a configuration error, and a failed delivery attempt.

Messages say what went wrong and which setting fixes it, and never carry a secret (a Slack
URL, an SMTP password, a webhook secret): channels redact before they raise.
"""

from __future__ import annotations

__all__ = ["AlertConfigError", "AlertError", "AlertInFlightError", "DeliveryError"]


class AlertError(Exception):
    """Root of every error the alerter raises."""


class AlertConfigError(AlertError):
    """A channel is half configured (a host without recipients, a URL without a secret).

    Fix: set the setting the message names, or unset the channel's URL/host to turn it off.
    """


class DeliveryError(AlertError):
    """One attempt to deliver an alert on one channel failed.

    `retryable` is False when the request itself is wrong (a revoked webhook, a refused
    password, a rejected recipient): retrying cannot help, so the channel gives up at once.
    `retry_after_s` is set when the server asked to wait (HTTP 429 `Retry-After`).
    """

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class AlertInFlightError(AlertError):
    """Another member has begun sending this alert on this channel and not finished.

    Raised so that the alert stays pending: if that member finishes, the redelivery finds
    the alert sent and skips it; if it died, its `sending` mark expires (the channel's retry
    budget + 5 s) and the redelivery sends the alert.
    """
