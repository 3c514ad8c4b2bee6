"""The alerter: `alert.raised` → one channel → `alert.delivered`, one consumer group per channel.

Each channel reads the `alerts` stream as its own group (`alerter-slack`, `alerter-email`,
`alerter-webhook`), with its own read loop, pending list and lag. A channel that is down or
slow therefore only makes its own group fall behind: the others go on reading and sending,
which no amount of concurrency inside one group can promise (there, the next read waits for
the slowest channel of the batch in hand; measured in bench/alerts.py). The groups can run
in one process (`spamops consume alerter-slack alerter-email alerter-webhook`) and each
scales out by adding members. A group whose channel is not configured only acknowledges.

For each alert: skip it if its severity is below the channel's minimum, or if it is older
than `max_age_s` (the alerter was down; the event stays on the stream); take the channel's
dedupe window for its key; deliver with retries (`retry.deliver`); publish `alert.delivered`.
Alerts of one read batch are delivered concurrently, within the channel's `max_in_flight`.

Delivery failures are reported, not raised: an alert is acknowledged once the channel has
answered or given up. Only a Redis failure raises, and the redelivery then skips the alert
if it was already sent (see `dedupe.AlertLedger`); an alert another member is sending (or
was sending when it died) raises `AlertInFlightError` and is retried, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from bus.bus import RedisBus
from consumers.alerter.channels.base import Channel
from consumers.alerter.channels.configured import channel_named
from consumers.alerter.dedupe import AlertLedger
from consumers.alerter.errors import AlertInFlightError
from consumers.alerter.retry import Outcome, budget_s, deliver
from consumers.base import EventConsumer
from schemas.catalogue import StreamName
from schemas.events import AlertDelivered, AlertRaised, Event
from schemas.operations import AlertDelivery
from spamops.settings import Settings

__all__ = [
    "DELIVERERS",
    "AlertDeliverer",
    "AlerterCounters",
    "EmailDeliverer",
    "SlackDeliverer",
    "WebhookDeliverer",
    "make_email_alerter",
    "make_slack_alerter",
    "make_webhook_alerter",
]

log = logging.getLogger(__name__)

LEDGER = "alerter"
"""Namespace of the dedupe and sent marks, shared by every channel's group."""


@dataclass(slots=True)
class AlerterCounters:
    delivered: int = 0
    failed: int = 0
    suppressed: int = 0
    expired: int = 0
    unrouted: int = 0


class AlertDeliverer(EventConsumer):
    """Delivers alerts on one channel; subclasses name the channel and the group."""

    channel_name: ClassVar[str]
    streams = (StreamName.ALERTS,)
    event_types = frozenset({"alert.raised"})
    start_id: ClassVar[str] = "$"
    """A new group does not send the stream's history (90 days of old alerts)."""

    def __init__(self, settings: Settings, bus: RedisBus, channel: Channel | None = None) -> None:
        self.settings = settings.alerts
        self.bus = bus
        self.source = settings.source(self.group)
        self.channel = channel or channel_named(settings.alerts, self.channel_name)
        self.ledger = AlertLedger(bus.redis, bus.keys, LEDGER, settings.bus.dedupe_ttl_s)
        self.counters = AlerterCounters()
        self._latency: Any = None
        self._delivered: Any = None

    async def start(self) -> None:
        if self.metrics is not None:
            from prometheus_client import Counter, Histogram

            self._latency = Histogram(
                "spamops_alert_delivery_seconds",
                "From alert.raised to delivered, per channel.",
                ["channel"],
                registry=self.metrics,
                buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            )
            self._delivered = Counter(
                "spamops_alerts_delivered",
                "Alert deliveries.",
                ["channel", "ok"],
                registry=self.metrics,
            )
        if self.channel is None:
            log.warning(
                "%s: the %s channel is not configured, so this group only acknowledges alerts",
                self.group,
                self.channel_name,
            )
            return
        await self.channel.open()
        log.info("%s: alerts of severity ≥ %s", self.group, self.channel.config.min_severity)

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()

    async def handle(self, event: Event) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[Event]) -> None:
        alerts = [e for e in events if isinstance(e, AlertRaised)]
        results = await asyncio.gather(*(self.deliver(a) for a in alerts), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def deliver(self, event: AlertRaised) -> Outcome | None:
        """Deliver one alert on this channel; None if it was not for this channel (now)."""
        channel, alert = self.channel, event.payload
        if channel is None or not channel.accepts(alert.severity):
            self.counters.unrouted += 1
            return None
        age_s = (datetime.now(UTC) - event.occurred_at).total_seconds()
        if age_s > self.settings.max_age_s:
            self.counters.expired += 1
            log.warning("%s: alert %s is %.0f s old: not sent", self.group, event.id, age_s)
            return None
        key = f"{channel.name}:{alert.dedupe_key}"
        if not await self.ledger.first(key, event.id, self.settings.dedupe_window_s):
            self.counters.suppressed += 1
            log.info("%s: alert %s suppressed: %r was sent recently", self.group, event.id, key)
            return None
        if not await self.ledger.begin(event.id, channel.name, budget_s(channel.config) + 5):
            if await self.ledger.was_sent(event.id, channel.name):
                return None  # sent before a crash (or by another member)
            raise AlertInFlightError(
                f"{self.group}: alert {event.id} is being sent by another member, or was "
                "when that member died: retried until it is sent or its mark expires"
            )
        outcome = await deliver(channel, event)
        if self._latency is not None:
            since_raised = (datetime.now(UTC) - event.occurred_at).total_seconds()
            self._latency.labels(channel.name).observe(since_raised)
            self._delivered.labels(channel.name, str(outcome.ok).lower()).inc()
        if outcome.ok:
            await self.ledger.sent(event.id, channel.name)
            self.counters.delivered += 1
        else:
            await self.ledger.abandon(event.id, channel.name)
            await self.ledger.release(key, event.id)  # nobody was told: let the next one try
            self.counters.failed += 1
        await self.bus.publish(
            AlertDelivered(
                source=self.source,
                correlation=event.correlation,
                payload=AlertDelivery(
                    alert_id=event.id,
                    channel=outcome.channel,
                    ok=outcome.ok,
                    attempts=outcome.attempts,
                    latency_ms=outcome.latency_ms,
                    error=outcome.error[:2000] if outcome.error else None,
                ),
            )
        )
        return outcome


class SlackDeliverer(AlertDeliverer):
    group: ClassVar[str] = "alerter-slack"
    channel_name: ClassVar[str] = "slack"


class EmailDeliverer(AlertDeliverer):
    group: ClassVar[str] = "alerter-email"
    channel_name: ClassVar[str] = "email"


class WebhookDeliverer(AlertDeliverer):
    group: ClassVar[str] = "alerter-webhook"
    channel_name: ClassVar[str] = "webhook"


DELIVERERS: dict[str, type[AlertDeliverer]] = {
    cls.channel_name: cls for cls in (SlackDeliverer, EmailDeliverer, WebhookDeliverer)
}


def make_slack_alerter(settings: Settings, bus: RedisBus) -> AlertDeliverer:
    return SlackDeliverer(settings, bus)


def make_email_alerter(settings: Settings, bus: RedisBus) -> AlertDeliverer:
    return EmailDeliverer(settings, bus)


def make_webhook_alerter(settings: Settings, bus: RedisBus) -> AlertDeliverer:
    return WebhookDeliverer(settings, bus)
