"""Alert latency: `alert.raised` published → received by a local webhook, through the real
alerter (the `alerter-webhook` group, hosted as `spamops consume` does) on a real Redis.
Alerts are published at a steady pace; each one's latency runs from just before its XADD to
the moment the receiver (a threaded HTTP server in this process, same clock) has read its
body. Target: p99 ≤ 1 s.

A second run adds the `alerter-slack` group with a Slack URL whose port refuses
connections, so that every alert also fails three times on Slack (with backoff): the
webhook's figures should not move, since each channel is its own consumer group.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/alerts.py`
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
import uuid
from typing import Any

from pydantic import SecretStr

from bench.harness import bench_redis, machine, parse_args, percentile, write_result
from bus.bus import RedisBus
from bus.connection import connect
from bus.embedded import free_port
from consumers.alerter.deliverer import AlertDeliverer, SlackDeliverer, WebhookDeliverer
from consumers.runner import as_bus_consumer
from schemas.catalogue import StreamName
from schemas.events import AlertRaised
from schemas.operations import Alert
from spamops.settings import AlertSettings, Settings, SlackAlertSettings, WebhookAlertSettings
from tests.consumers.alerter.receivers import HttpReceiver

_SECRET = SecretStr("bench-signing-secret-0123456789")


def _alert(i: int) -> AlertRaised:
    return AlertRaised(
        source="bench@local",
        payload=Alert(
            severity="critical",
            title=f"bench alert {i}",
            body="Drift on spam-classifier v3: score 0.42.\n\nWhat to do: nothing, a benchmark.",
            dedupe_key=f"bench:{uuid.uuid4().hex}",
            labels={"kind": "bench"},
        ),
    )


async def _group_ready(bus: RedisBus, group: str) -> None:
    """Groups start at "$": publishing before they exist would skip alerts."""
    stream = bus.keys.stream(StreamName.ALERTS)
    for _ in range(500):
        if await bus.redis.exists(stream):
            names = {g["name"] for g in await bus.redis.xinfo_groups(stream)}
            if group in names or group.encode() in names:
                return
        await asyncio.sleep(0.01)
    raise RuntimeError("the alerter's group was not created")


async def _measure(
    url: str,
    alerts: AlertSettings,
    kinds: tuple[type[AlertDeliverer], ...],
    receiver: HttpReceiver,
    n: int,
    interval_s: float,
) -> list[float]:
    prefix = f"spamops-bench:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, env="test", stream_prefix=prefix, data_dir=Path(tmp), alerts=alerts
        )
        bus = RedisBus(connect(url, settings.bus), settings, component="bench")
        apps = [kind(settings, bus) for kind in kinds]
        consumers = [as_bus_consumer(app, bus, "bench") for app in apps]
        for app in apps:
            await app.start()
        tasks = [asyncio.create_task(c.run()) for c in consumers]
        sent: dict[str, float] = {}
        try:
            for app in apps:
                await _group_ready(bus, app.group)
            start = time.perf_counter()
            for i in range(n):
                event = _alert(i)
                delay = start + i * interval_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent[str(event.id)] = time.perf_counter()
                await bus.publish(event)
            deadline = time.monotonic() + 60
            while sum(r.headers.get("X-Spamops-Event-Id") in sent for r in receiver.delivered) < n:
                if time.monotonic() > deadline:
                    raise RuntimeError("not every alert reached the webhook within 60 s")
                await asyncio.sleep(0.01)
        finally:
            for c in consumers:
                c.stop()
            await asyncio.gather(*tasks)
            for app in apps:
                await app.close()
            async for key in bus.redis.scan_iter(match=f"{prefix}*"):
                await bus.redis.delete(key)
            await bus.close()
    return [
        (r.at - sent[r.headers["X-Spamops-Event-Id"]]) * 1000
        for r in receiver.delivered
        if r.headers.get("X-Spamops-Event-Id") in sent
    ]


def _figures(latencies: list[float], interval_s: float) -> dict[str, Any]:
    return {
        "n": len(latencies),
        "rate_per_s": round(1 / interval_s, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


async def run(url: str, quick: bool) -> dict[str, Any]:
    n, interval_s = (300, 0.02) if quick else (3000, 0.02)
    with HttpReceiver() as hook:
        webhook = WebhookAlertSettings(url=hook.url(), secret=_SECRET)
        only = AlertSettings(webhook=webhook)
        healthy = await _measure(url, only, (WebhookDeliverer,), hook, n, interval_s)
    dead_n, dead_interval_s = (300, 0.02) if quick else (3000, 0.02)
    with HttpReceiver() as hook:
        webhook = WebhookAlertSettings(url=hook.url(), secret=_SECRET)
        slack = SlackAlertSettings(
            webhook_url=SecretStr(f"http://127.0.0.1:{free_port()}/services/dead")
        )
        alerts = AlertSettings(webhook=webhook, slack=slack)
        kinds = (WebhookDeliverer, SlackDeliverer)
        beside_dead = await _measure(url, alerts, kinds, hook, dead_n, dead_interval_s)
    redis = connect(url, Settings(_env_file=None).bus)
    try:
        version = (await redis.info("server")).get("redis_version")
    finally:
        await redis.aclose()
    return {
        **_figures(healthy, interval_s),
        "redis_version": version,
        "with_dead_slack_channel": _figures(beside_dead, dead_interval_s),
        "targets": {"p99_ms": 1000},
    }


def main() -> None:
    args = parse_args(__doc__ or "")
    logging.getLogger("consumers.alerter").setLevel(logging.ERROR)  # the dead Slack's retries
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        result = asyncio.run(run(url, args.quick))
    result["machine"] = machine()
    result["quick"] = args.quick
    width = max(len(k) for k in result)
    for key, value in result.items():
        if key != "machine":
            print(f"{key:<{width}}  {value}")
    ok = result["p99_ms"] <= 1000
    print(f"target {'met' if ok else 'NOT met'}: p99 ≤ 1000 ms (healthy webhook)")
    write_result("alerts", result)


if __name__ == "__main__":
    main()
