"""The alerter groups and the raiser as group members on a real Redis, with real receivers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import pytest

from bus.bus import RedisBus
from bus.embedded import free_port
from consumers.alerter.deliverer import EmailDeliverer, SlackDeliverer, WebhookDeliverer
from consumers.alerter.raiser import AlertRaiser
from consumers.base import EventConsumer
from consumers.runner import as_bus_consumer
from schemas.catalogue import StreamName
from schemas.events import AlertDelivered
from spamops.settings import Settings
from tests.consumers.agent import builders as agent
from tests.consumers.alerter import builders as b
from tests.consumers.alerter.receivers import HttpReceiver

pytestmark = pytest.mark.redis


@asynccontextmanager
async def hosted(bus: RedisBus, apps: Sequence[EventConsumer]) -> AsyncIterator[None]:
    """Run apps as group members (like `spamops consume`) until the block ends."""
    consumers = [as_bus_consumer(app, bus, f"member-{i}") for i, app in enumerate(apps)]
    for app in apps:
        await app.start()
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    try:
        for app in apps:  # groups start at "$": wait until they exist before publishing
            for stream in app.streams:
                await _group_ready(bus, stream, app.group)
        yield
    finally:
        for c in consumers:
            c.stop()
        await asyncio.gather(*tasks)
        for app in apps:
            await app.close()


async def _group_ready(bus: RedisBus, stream: StreamName, group: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if await bus.redis.exists(bus.keys.stream(stream)):
            groups = await bus.redis.xinfo_groups(bus.keys.stream(stream))
            if any(g["name"] in (group, group.encode()) for g in groups):
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"group {group} on {stream} was not created")


async def _deliveries(bus: RedisBus, n: int) -> list[AlertDelivered]:
    deadline = time.monotonic() + 5
    while True:
        page = await bus.read_page(StreamName.ALERTS, types=["alert.delivered"], limit=1000)
        found = [s.event for s in page.events if isinstance(s.event, AlertDelivered)]
        if len(found) >= n or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.01)


async def test_published_alert_reaches_the_webhook_and_is_reported(
    redis_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    async with hosted(redis_bus, [WebhookDeliverer(settings, redis_bus)]):
        event = b.alert("critical")
        sent = time.perf_counter()
        await redis_bus.publish(event)
        (request,) = await http_receiver.wait_for(1)
        (delivered,) = await _deliveries(redis_bus, 1)
    assert request.headers["X-Spamops-Event-Id"] == str(event.id)
    assert request.at - sent < 0.5
    assert delivered.payload.alert_id == event.id and delivered.payload.ok


async def test_replicas_share_the_dedupe_window(
    redis_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    replicas = [WebhookDeliverer(settings, redis_bus) for _ in range(3)]
    async with hosted(redis_bus, replicas):
        events = [b.alert(key=f"storm:{i % 4}") for i in range(24)]
        await redis_bus.publish_many(events)
        await http_receiver.wait_for(4)
        await asyncio.sleep(0.3)  # give any duplicate time to arrive
    keys = {r.headers["X-Spamops-Event-Id"] for r in http_receiver.delivered}
    assert len(http_receiver.delivered) == 4 == len(keys)
    assert sum(r.counters.suppressed for r in replicas) == 20


async def test_system_events_become_delivered_alerts(
    redis_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    apps = [AlertRaiser(settings, redis_bus), WebhookDeliverer(settings, redis_bus)]
    async with hosted(redis_bus, apps):
        await redis_bus.publish(agent.drift(0.4, version=7))
        await redis_bus.publish(b.dead_letter("feedback", "performance"))
        await redis_bus.publish(agent.performance(0.99))  # above the floor: nothing
        requests = await http_receiver.wait_for(2)
        await asyncio.sleep(0.2)
    titles = sorted(r.body.decode() for r in requests)
    assert len(http_receiver.delivered) == 2
    assert any("Drift on spam-classifier v7" in t for t in titles)
    assert any("Dead letter from performance on feedback" in t for t in titles)


async def test_a_crash_between_sending_and_acking_does_not_resend(
    redis_bus: RedisBus,
    make_settings: Callable[..., Settings],
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    publish = redis_bus.publish
    failed: list[object] = []

    async def lose_first_report(event: object) -> str:
        if isinstance(event, AlertDelivered) and not failed:
            failed.append(event)
            raise ConnectionError("Redis went away after the webhook answered")
        return await publish(event)  # type: ignore[arg-type]

    monkeypatch.setattr(redis_bus, "publish", lose_first_report)
    async with hosted(redis_bus, [WebhookDeliverer(settings, redis_bus)]):
        await publish(b.alert())
        await http_receiver.wait_for(1)
        stream = redis_bus.keys.stream(StreamName.ALERTS)
        deadline = time.monotonic() + 5
        while (await redis_bus.redis.xpending(stream, "alerter-webhook"))["pending"]:
            assert time.monotonic() < deadline, "the alert was never acknowledged"
            await asyncio.sleep(0.02)  # redelivered after reclaim_idle_ms, then acked
    assert failed and len(http_receiver.requests) == 1  # handled twice, sent once


async def test_a_dead_and_a_stalled_channel_do_not_delay_the_healthy_one(
    redis_bus: RedisBus,
    make_settings: Callable[..., Settings],
    receivers: Callable[..., HttpReceiver],
) -> None:
    healthy, stalled = receivers(), receivers(delay_s=30)
    settings = make_settings(
        alerts=b.alerts(
            slack=b.slack(stalled.url(), timeout_s=0.5, attempts=2, max_in_flight=10),
            email=b.email(free_port(), backoff_s=0.3, backoff_max_s=0.6),  # refused
            webhook=b.webhook(healthy.url()),
        )
    )
    groups = [
        kind(settings, redis_bus) for kind in (SlackDeliverer, EmailDeliverer, WebhookDeliverer)
    ]
    sent: dict[str, float] = {}
    async with hosted(redis_bus, groups):
        for _ in range(8):  # a burst of distinct critical alerts, 50 ms apart
            event = b.alert("critical")
            sent[str(event.id)] = time.perf_counter()
            await redis_bus.publish(event)
            await asyncio.sleep(0.05)
        await healthy.wait_for(8)
        latencies = [r.at - sent[r.headers["X-Spamops-Event-Id"]] for r in healthy.delivered]
        pending = {g.group: g.counters.failed for g in groups}
    # Every alert reached the healthy webhook quickly, while Slack (two 0.5 s timeouts per
    # alert) and the refused mail server (three connects with backoff) were still failing.
    assert max(latencies) < 0.3, latencies
    assert pending["alerter-webhook"] == 0 and pending["alerter-slack"] < 8
    failed = {d.payload.channel for d in await _deliveries(redis_bus, 0) if not d.payload.ok}
    assert failed == {"slack", "email"}  # they gave up on what they had read, and said so
