"""Retries with backoff, timeouts and the per-channel slot limit, on a real HTTP server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from consumers.alerter.channels import WebhookChannel
from consumers.alerter.retry import backoff_delay, budget_s, deliver
from spamops.settings import WebhookAlertSettings
from tests.consumers.alerter import builders as b
from tests.consumers.alerter.receivers import HttpReceiver


async def test_a_failing_receiver_is_retried_until_it_answers(
    receivers: Callable[..., HttpReceiver],
) -> None:
    receiver = receivers(fail_first=2, fail_status=503)
    channel = WebhookChannel(b.webhook(receiver.url()))
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    assert outcome.ok and outcome.attempts == 3 and outcome.error is None
    assert [r.status for r in receiver.requests] == [503, 503, 200]
    signatures = {r.headers["X-Spamops-Event-Id"] for r in receiver.requests}
    assert len(signatures) == 1  # the same alert each time, so a receiver can dedupe


async def test_giving_up_reports_the_last_error(receivers: Callable[..., HttpReceiver]) -> None:
    receiver = receivers(fail_first=99, fail_status=502, fail_body=b"bad gateway")
    channel = WebhookChannel(b.webhook(receiver.url()))
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    assert not outcome.ok and outcome.attempts == 3 and len(receiver.requests) == 3
    assert outcome.error == "webhook: HTTP 502 bad gateway"


async def test_a_stalled_receiver_times_out_each_attempt(
    receivers: Callable[..., HttpReceiver],
) -> None:
    receiver = receivers(delay_s=5)
    channel = WebhookChannel(b.webhook(receiver.url(), timeout_s=0.2, attempts=2))
    started = time.perf_counter()
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    elapsed = time.perf_counter() - started
    assert not outcome.ok and outcome.attempts == 2
    assert outcome.error and "no answer within 0.2 s" in outcome.error
    assert "SPAMOPS_ALERTS__WEBHOOK__TIMEOUT_S" in outcome.error
    assert 0.4 <= elapsed < 1.5


async def test_slots_bound_sends_at_once(receivers: Callable[..., HttpReceiver]) -> None:
    receiver = receivers(delay_s=0.2)
    channel = WebhookChannel(b.webhook(receiver.url(), max_in_flight=2))
    started = time.perf_counter()
    try:
        outcomes = await asyncio.gather(*(deliver(channel, b.alert()) for _ in range(4)))
    finally:
        await channel.close()
    assert all(o.ok for o in outcomes)
    assert time.perf_counter() - started >= 0.4  # 4 sends, 2 at a time, 0.2 s each


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    config = WebhookAlertSettings(backoff_s=1.0, backoff_max_s=5.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        delays = [backoff_delay(attempt, config) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert budget_s(WebhookAlertSettings(attempts=3, timeout_s=5, backoff_s=0.5)) == 16.5
