"""`spamops alerts test`, straight to the channels and through a running alerter."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus.bus import RedisBus
from bus.connection import connect
from bus.embedded import free_port
from consumers.alerter.deliverer import WebhookDeliverer
from consumers.runner import as_bus_consumer
from spamops.cli import app
from spamops.settings import Settings
from tests.consumers.alerter import builders as b
from tests.consumers.alerter.receivers import HttpReceiver, SmtpReceiver
from tests.consumers.alerter.test_integration import _group_ready


def _env(tmp_path: Path, **channels: str) -> dict[str, str]:
    env = {"SPAMOPS_ENV": "test", "SPAMOPS_DATA_DIR": str(tmp_path / "data")}
    for name in ("SLACK", "EMAIL", "WEBHOOK"):
        env[f"SPAMOPS_ALERTS__{name}__BACKOFF_S"] = "0.01"
        env[f"SPAMOPS_ALERTS__{name}__TIMEOUT_S"] = "1"
    env.update({f"SPAMOPS_ALERTS__{k.upper()}": v for k, v in channels.items()})
    return env


def _webhook(url: str) -> dict[str, str]:
    return {"webhook__url": url, "webhook__secret": b.SECRET}


def test_sends_a_test_alert_through_every_channel(
    tmp_path: Path, receivers: Callable[..., HttpReceiver], smtp_receiver: SmtpReceiver
) -> None:
    slack, hook = receivers(), receivers()
    env = _env(
        tmp_path,
        slack__webhook_url=slack.url("/services/T/B/secret-token"),
        email__host="127.0.0.1",
        email__port=str(smtp_receiver.port),
        email__security="none",
        email__sender="spamops@example.org",
        email__to="oncall@example.org,ml@example.org",
        **_webhook(hook.url()),
    )
    result = CliRunner().invoke(app, ["alerts", "test"], env=env)
    assert result.exit_code == 0, result.output
    for name in ("slack", "email", "webhook"):
        assert name in result.output
    assert result.output.count("ok") >= 3 and "FAILED" not in result.output
    assert len(slack.delivered) == 1 and len(hook.delivered) == 1
    (mail,) = smtp_receiver.messages
    assert mail["Subject"] == "[spamops CRITICAL] Test alert from spamops: no action needed"
    assert "secret-token" not in result.output


def test_a_failing_channel_fails_the_command(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    env = _env(
        tmp_path,
        slack__webhook_url=f"http://127.0.0.1:{free_port()}/services/T/B/secret-token",
        **_webhook(http_receiver.url()),
    )
    result = CliRunner().invoke(app, ["alerts", "test", "--severity", "info"], env=env)
    assert result.exit_code == 1
    assert "FAILED" in result.output and "secret-token" not in result.output
    assert len(http_receiver.delivered) == 1  # the healthy channel still got it


def test_nothing_configured_or_half_configured_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "test"], env=_env(tmp_path))
    assert result.exit_code == 1 and "no alert channel is configured" in result.output
    half = _env(tmp_path, email__host="smtp.example.org", email__password="hunter22")
    result = CliRunner().invoke(app, ["alerts", "test"], env=half)
    assert result.exit_code == 1 and "SPAMOPS_ALERTS__EMAIL__TO" in result.output
    assert "hunter22" not in result.output


@contextmanager
def running_alerter(redis_url: str, settings: Settings) -> Iterator[None]:
    """A webhook alerter in a thread with its own event loop, like `spamops consume`."""
    ready, stop = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    async def main() -> None:
        bus = RedisBus(connect(redis_url, settings.bus), settings)
        alerter = WebhookDeliverer(settings, bus)
        consumer = as_bus_consumer(alerter, bus, "cli-test")
        task = asyncio.create_task(consumer.run())
        try:
            await alerter.start()
            await _group_ready(bus, alerter.streams[0], alerter.group)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.01)
        finally:
            consumer.stop()
            await task
            await alerter.close()
            async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
                await bus.redis.delete(key)
            await bus.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10) and not errors, errors
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
    assert not errors, errors


@pytest.mark.redis
def test_via_bus_waits_for_the_running_alerter(
    tmp_path: Path,
    redis_url: str,
    make_settings: Callable[..., Settings],
    http_receiver: HttpReceiver,
) -> None:
    settings = make_settings(alerts=b.alerts(webhook=b.webhook(http_receiver.url())))
    env = {
        **_env(tmp_path, **_webhook(http_receiver.url())),
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": settings.stream_prefix,
    }
    with running_alerter(redis_url, settings):
        result = CliRunner().invoke(app, ["alerts", "test", "--via-bus"], env=env)
        assert result.exit_code == 0, result.output
        assert "webhook" in result.output and "ok" in result.output
        assert len(http_receiver.delivered) == 1
        missing = CliRunner().invoke(
            app,
            ["alerts", "test", "--via-bus", "--timeout", "0.3"],
            env={**env, "SPAMOPS_STREAM_PREFIX": settings.stream_prefix + "nobody:"},
        )
    assert missing.exit_code == 1 and "spamops consume alerter-webhook" in missing.output
    info = _env(tmp_path, **_webhook(http_receiver.url()), webhook__min_severity="critical")
    result = CliRunner().invoke(
        app, ["alerts", "test", "--via-bus", "--severity", "info"], env=info
    )
    assert result.exit_code == 1 and "no configured channel takes info alerts" in result.output
