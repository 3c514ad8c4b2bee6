"""The delivering consumers on fakeredis with real receivers: routing, `alert.delivered`,
dedupe, redeliveries, and what a group without a channel does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bus.bus import RedisBus
from consumers import runner
from consumers.alerter.deliverer import (
    AlertDeliverer,
    EmailDeliverer,
    SlackDeliverer,
    WebhookDeliverer,
)
from schemas.catalogue import StreamName
from schemas.events import AlertDelivered
from spamops.settings import Settings
from tests.consumers.alerter import builders as b
from tests.consumers.alerter.receivers import HttpReceiver, SmtpReceiver

_ALL = (SlackDeliverer, EmailDeliverer, WebhookDeliverer)


async def _deliveries(bus: RedisBus) -> list[AlertDelivered]:
    page = await bus.read_page(StreamName.ALERTS, types=["alert.delivered"], limit=1000)
    return [s.event for s in page.events if isinstance(s.event, AlertDelivered)]


async def _started(
    settings: Settings, bus: RedisBus, kind: type[AlertDeliverer] = WebhookDeliverer
) -> AlertDeliverer:
    alerter = kind(settings, bus)
    await alerter.start()
    return alerter


async def test_routes_by_severity_and_reports_each_channel(
    fake_bus: RedisBus,
    make_settings: Callable[..., Settings],
    receivers: Callable[..., HttpReceiver],
    smtp_receiver: SmtpReceiver,
) -> None:
    slack, hook = receivers(), receivers()
    settings = make_settings(
        alerts=b.alerts(
            slack=b.slack(slack.url(), min_severity="warning"),
            email=b.email(smtp_receiver.port, min_severity="critical"),
            webhook=b.webhook(hook.url(), min_severity="info"),
        )
    )
    groups = [await _started(settings, fake_bus, kind) for kind in _ALL]
    try:
        info, warning, critical = b.alert("info"), b.alert("warning"), b.alert("critical")
        for event in (info, warning, critical):
            for group in groups:
                await group.handle(event)
    finally:
        for group in groups:
            await group.close()
    assert len(hook.delivered) == 3 and len(slack.delivered) == 2
    assert len(smtp_receiver.messages) == 1
    by_alert: dict[object, set[str]] = {}
    for d in await _deliveries(fake_bus):
        by_alert.setdefault(d.payload.alert_id, set()).add(d.payload.channel)
        assert d.payload.ok and d.payload.attempts == 1 and d.payload.latency_ms > 0
        assert d.payload.error is None and d.source == f"alerter-{d.payload.channel}@test"
    assert by_alert == {
        info.id: {"webhook"},
        warning.id: {"webhook", "slack"},
        critical.id: {"webhook", "slack", "email"},
    }
    assert [g.counters.delivered for g in groups] == [2, 1, 3]
    assert [g.counters.unrouted for g in groups] == [1, 2, 0]


async def test_delivered_event_carries_attempts_latency_and_error(
    fake_bus: RedisBus,
    make_settings: Callable[..., Settings],
    receivers: Callable[..., HttpReceiver],
) -> None:
    flaky, dead = receivers(fail_first=1), receivers(fail_first=99, fail_status=500)
    settings = make_settings(
        alerts=b.alerts(slack=b.slack(dead.url()), webhook=b.webhook(flaky.url()))
    )
    groups = [await _started(settings, fake_bus, kind) for kind in _ALL]
    event = b.alert("critical")
    try:
        for group in groups:
            await group.handle(event)
    finally:
        for group in groups:
            await group.close()
    got = {d.payload.channel: d for d in await _deliveries(fake_bus)}
    assert got["webhook"].payload.ok and got["webhook"].payload.attempts == 2
    assert got["webhook"].correlation == event.correlation
    slack = got["slack"].payload
    assert not slack.ok and slack.attempts == 3 and slack.error == "slack: HTTP 500 internal_error"
    assert all(d.payload.alert_id == event.id for d in got.values())


async def test_same_dedupe_key_is_delivered_once_per_window(
    fake_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    alerter = await _started(settings, fake_bus)
    try:
        first, repeat, other = b.alert(key="drift:m:v1"), b.alert(key="drift:m:v1"), b.alert()
        assert await alerter.deliver(first)
        assert await alerter.deliver(repeat) is None  # suppressed: same key, same window
        assert await alerter.deliver(other)
        window = alerter.ledger.dedupe_key("webhook:drift:m:v1")  # one window per channel
        assert 3500 < await fake_bus.redis.ttl(window) <= 3600  # the window: 1 h by default
        await fake_bus.redis.delete(window)  # the window is over
        assert await alerter.deliver(b.alert(key="drift:m:v1"))
    finally:
        await alerter.close()
    ids = [r.headers["X-Spamops-Event-Id"] for r in http_receiver.delivered]
    assert len(ids) == 3 and str(first.id) in ids and str(repeat.id) not in ids
    assert alerter.counters.suppressed == 1


async def test_a_redelivered_alert_is_not_sent_again(
    fake_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    alerter = await _started(settings, fake_bus)
    event = b.alert()
    try:
        await alerter.handle(event)
        await alerter.handle(event)  # e.g. a crash after sending, before the XACK
    finally:
        await alerter.close()
    assert len(http_receiver.requests) == 1 and len(await _deliveries(fake_bus)) == 1


async def test_when_every_channel_fails_the_next_occurrence_is_tried(
    fake_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    http_receiver.fail_first = 3  # the first alert's three attempts
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    alerter = await _started(settings, fake_bus)
    try:
        failed = await alerter.deliver(b.alert(key="k"))
        retried = await alerter.deliver(b.alert(key="k"))  # not suppressed: nobody was told
    finally:
        await alerter.close()
    assert failed is not None and not failed.ok
    assert retried is not None and retried.ok


async def test_without_channels_alerts_are_only_events(
    fake_bus: RedisBus, settings: Settings
) -> None:
    alerter = await _started(settings, fake_bus)  # the webhook is not configured
    assert alerter.channel is None
    await alerter.handle(b.alert("critical"))
    await alerter.close()
    assert await _deliveries(fake_bus) == [] and alerter.counters.unrouted == 1


async def test_an_alert_older_than_max_age_is_not_sent(
    fake_bus: RedisBus, make_settings: Callable[..., Settings], http_receiver: HttpReceiver
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url()), max_age_s=600))
    alerter = await _started(settings, fake_bus)
    await alerter.handle(b.alert(at=datetime.now(UTC) - timedelta(minutes=11)))
    await alerter.handle(b.alert(at=datetime.now(UTC) - timedelta(minutes=9)))
    await alerter.close()
    assert len(http_receiver.delivered) == 1 and alerter.counters.expired == 1


async def test_the_runner_builds_each_alert_consumer_under_its_group_name(
    fake_bus: RedisBus, settings: Settings
) -> None:
    names = ("alerter-slack", "alerter-email", "alerter-webhook", "alert-raiser")
    built = {name: runner.build(name, settings, fake_bus) for name in names}
    assert {name: app.group for name, app in built.items()} == {name: name for name in names}
