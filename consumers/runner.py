"""Host any consumers in one process: build them, run them until SIGTERM, close them.

Consumers are named (`spamops consume drift performance`); each name maps to a factory,
imported only when asked for, so a process hosting the audit logger never imports
scikit-learn.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Sequence

from bus.bus import RedisBus
from bus.consumer import Consumer
from bus.runner import run_until_signalled
from consumers.base import EventConsumer
from consumers.metrics import ConsumerMetrics
from spamops.settings import Settings

__all__ = ["CONSUMER_FACTORIES", "ConsumerFactory", "UnknownConsumerError", "build", "serve"]

log = logging.getLogger(__name__)

ConsumerFactory = Callable[[Settings, RedisBus], EventConsumer]

CONSUMER_FACTORIES: dict[str, str] = {
    # name: "module:factory(settings, bus) -> EventConsumer" — add a line per consumer.
    "drift": "consumers.drift:make_drift_monitor",
    "performance": "consumers.performance:make_performance_tracker",
    "agent": "consumers.agent:make_agent",
    "retrainer": "consumers.retrainer:make_retrainer",
    "projector": "consumers.projector:make_projector",
    "alerter-slack": "consumers.alerter.deliverer:make_slack_alerter",
    "alerter-email": "consumers.alerter.deliverer:make_email_alerter",
    "alerter-webhook": "consumers.alerter.deliverer:make_webhook_alerter",
    "alert-raiser": "consumers.alerter.raiser:make_alert_raiser",
    "audit": "consumers.audit:make_audit_logger",
    "abtest": "consumers.abtest:make_abtest_evaluator",
}


class UnknownConsumerError(KeyError):
    """No consumer has that name. Fix: use one of `spamops consume --help`."""


def build(name: str, settings: Settings, bus: RedisBus) -> EventConsumer:
    try:
        target = CONSUMER_FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(CONSUMER_FACTORIES)) or "none"
        raise UnknownConsumerError(f"no consumer named {name!r} (known: {known})") from None
    module_name, _, attr = target.partition(":")
    factory: ConsumerFactory = getattr(importlib.import_module(module_name), attr)
    return factory(settings, bus)


def as_bus_consumer(
    app: EventConsumer, bus: RedisBus, member: str, metrics: ConsumerMetrics | None = None
) -> Consumer:
    consumer = bus.consumer(
        group=app.group,
        name=member,
        streams=app.streams,
        handler=app.handle,
        event_types=app.event_types,
        start_id=app.start_id,
        batch_handler=app.handle_batch,
    )
    if metrics is not None:
        consumer.observe = metrics.handle.labels(app.group).observe
    return consumer


async def _tick_forever(app: EventConsumer, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await app.tick()
        except Exception:
            log.exception("tick of %s failed", type(app).__name__)


async def serve(settings: Settings, bus: RedisBus, names: Sequence[str], member: str) -> int:
    """Run the named consumers as group member `member` until signalled; the exit code."""
    apps = [build(name, settings, bus) for name in names]
    metrics = ConsumerMetrics() if settings.metrics_port else None
    started: list[EventConsumer] = []
    tickers: list[asyncio.Task[None]] = []
    try:
        for app in apps:
            if metrics is not None:
                app.metrics = metrics.registry
            await app.start()
            started.append(app)
            if app.tick_interval_s:
                tickers.append(asyncio.create_task(_tick_forever(app, app.tick_interval_s)))
        consumers = [as_bus_consumer(app, bus, member, metrics) for app in apps]
        if metrics is not None and settings.metrics_port:
            metrics.serve(settings.metrics_port)
            tickers.append(asyncio.create_task(metrics.run(bus, consumers)))
        log.info("consuming as %s: %s", member, ", ".join(names))
        return await run_until_signalled(consumers, grace_s=settings.bus.shutdown_grace_s)
    finally:
        for task in tickers:
            task.cancel()
        await asyncio.gather(*tickers, return_exceptions=True)
        for app in reversed(started):
            try:
                await app.close()
            except Exception:
                log.exception("closing consumer %s failed", type(app).__name__)
