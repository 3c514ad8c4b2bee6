"""Prometheus metrics of a consumer process, served on its own port.

Delivery figures come from the bus consumers' running counters (no coupling of the bus to
Prometheus); lag and pending are read from `XINFO GROUPS` every few seconds; handling time
is observed per event. Domain consumers add their own metrics to the same registry
(`EventConsumer.metrics`), e.g. drift statistics, retraining durations, alert latency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from bus.bus import RedisBus
from bus.consumer import Consumer, ConsumerCounters

__all__ = ["ConsumerMetrics"]

log = logging.getLogger(__name__)

_FIELDS = ("processed", "failed", "deadlettered", "duplicates")


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "spamops_consumer_events",
            "Entries handled, by outcome.",
            ["group", "outcome"],
            registry=r,
        )
        self.handle = Histogram(
            "spamops_consumer_handle_duration_seconds",
            "Time in the handler per event.",
            ["group"],
            registry=r,
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
        )
        self.lag = Gauge(
            "spamops_consumer_lag_events",
            "Entries not yet delivered to the group.",
            ["group", "stream"],
            registry=r,
        )
        self.pending = Gauge(
            "spamops_consumer_pending_events",
            "Entries delivered but not acknowledged.",
            ["group", "stream"],
            registry=r,
        )
        self._last: dict[str, ConsumerCounters] = {}

    def serve(self, port: int) -> None:
        start_http_server(port, addr="0.0.0.0", registry=self.registry)  # noqa: S104
        log.info("metrics on :%d/metrics", port)

    def sync_counters(self, consumers: Sequence[Consumer]) -> None:
        for consumer in consumers:
            previous = self._last.get(consumer.group, ConsumerCounters())
            current = consumer.counters
            for name in _FIELDS:
                delta = getattr(current, name) - getattr(previous, name)
                if delta > 0:
                    self.events.labels(consumer.group, name).inc(delta)
            self._last[consumer.group] = ConsumerCounters(
                **{f: getattr(current, f) for f in _FIELDS}
            )

    async def sync_groups(self, bus: RedisBus, groups: set[str]) -> None:
        for stream in await bus.stats():
            for group in stream.groups:
                if group.name in groups:
                    self.lag.labels(group.name, str(stream.stream)).set(group.lag)
                    self.pending.labels(group.name, str(stream.stream)).set(group.pending)

    async def run(self, bus: RedisBus, consumers: Sequence[Consumer], every_s: float = 5) -> None:
        groups = {c.group for c in consumers}
        while True:
            self.sync_counters(consumers)
            try:
                await self.sync_groups(bus, groups)
            except Exception as exc:  # Redis away: keep the last values, try again later
                log.debug("lag not read: %s", exc)
            await asyncio.sleep(every_s)
