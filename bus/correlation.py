"""The correlation id of the work in hand (a request, or the event being handled).

Set by the API for each request and by the consumer runner for each event, read by the
log formatter, so every log line can be tied to its chain of events.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["correlation_id"]

correlation_id: ContextVar[str | None] = ContextVar("spamops_correlation_id", default=None)
