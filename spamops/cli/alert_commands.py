"""`spamops alerts test`: prove that every configured alert channel reaches its people.

By default the test alert goes straight from this process to every configured channel,
whatever their minimum severity, and the command prints what each answered (exit 1 if any
failed, or if none is configured). With `--via-bus` it is published as `alert.raised`
instead and the command waits for the `alert.delivered` events of the running alerter groups
(`spamops consume alerter-<channel>`): that also proves they run and route by severity.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from schemas.catalogue import StreamName
from schemas.common import Severity
from schemas.envelope import new_id
from schemas.events import AlertDelivered, AlertRaised
from schemas.operations import Alert
from spamops.cli.context import fail, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings

if TYPE_CHECKING:  # slack-sdk and aiohttp load only when alerts are sent
    from consumers.alerter.channels import Channel
    from consumers.alerter.retry import Outcome

__all__ = ["register", "test_alert"]


def test_alert(settings: Settings, severity: Severity) -> AlertRaised:
    """The test alert: says what it is, so nobody acts on it."""
    host = socket.gethostname()
    alert = Alert(
        severity=severity,
        title="Test alert from spamops: no action needed",
        body=(
            f"`spamops alerts test` on {host} sent this to check that alerts reach you.\n"
            "If you read it, this channel works. Nothing is wrong with the system."
        ),
        dedupe_key=f"test:{new_id()}",
        labels={"kind": "test"},
    )
    return AlertRaised(source=settings.source("cli"), payload=alert)


async def _direct(channels: list[Channel], event: AlertRaised) -> list[Outcome]:
    from consumers.alerter.retry import deliver

    for channel in channels:
        await channel.open()
    try:
        return list(await asyncio.gather(*(deliver(c, event) for c in channels)))
    finally:
        for channel in channels:
            await channel.close()


async def _via_bus(
    settings: Settings, channels: list[Channel], severity: Severity, timeout_s: float
) -> list[Outcome]:
    from consumers.alerter.retry import Outcome

    expected = {c.name for c in channels if c.accepts(severity)}
    outcomes: dict[str, Outcome] = {}
    async with open_bus(settings, "cli") as bus:
        event = test_alert(settings, severity)
        entry_id = await bus.publish(event)
        try:
            async with asyncio.timeout(timeout_s):
                async for item in bus.tail(
                    StreamName.ALERTS, from_id=entry_id, types=["alert.delivered"]
                ):
                    delivered = item.event
                    if isinstance(delivered, AlertDelivered):
                        p = delivered.payload
                        if p.alert_id == event.id:
                            outcomes[p.channel] = Outcome(
                                p.channel, p.ok, p.attempts, p.latency_ms, p.error
                            )
                    if expected <= outcomes.keys():
                        break
        except TimeoutError:
            for name in sorted(expected - outcomes.keys()):
                outcomes[name] = Outcome(
                    name,
                    False,
                    1,
                    timeout_s * 1000,
                    f"no alert.delivered within {timeout_s:g} s: is `spamops consume "
                    f"alerter-{name}` running with these settings?",
                )
    return list(outcomes.values())


def _report(outcomes: list[Outcome]) -> None:
    table = Table(title="alert channels")
    for col in ("channel", "result", "attempts", "latency ms", "error"):
        table.add_column(col, justify="right" if col in ("attempts", "latency ms") else "left")
    for o in outcomes:
        result = "[green]ok[/green]" if o.ok else "[red]FAILED[/red]"
        table.add_row(o.channel, result, str(o.attempts), f"{o.latency_ms:.0f}", o.error or "")
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    alerts = typer.Typer(help="Alert channels.", no_args_is_help=True)

    @alerts.command("test")
    def test_cmd(
        ctx: typer.Context,
        severity: Annotated[
            Severity, typer.Option(help="Severity of the test alert (routing with --via-bus).")
        ] = "critical",
        via_bus: Annotated[
            bool, typer.Option("--via-bus", help="Publish it; wait for the running alerter.")
        ] = False,
        timeout: Annotated[float, typer.Option(help="Seconds to wait with --via-bus.")] = 30.0,
    ) -> None:
        """Send a test alert through every configured channel and print each result."""
        from consumers.alerter.channels import configured_channels
        from consumers.alerter.errors import AlertConfigError

        settings = settings_of(ctx)
        try:
            channels = configured_channels(settings.alerts)
        except AlertConfigError as exc:
            raise fail(str(exc)) from None
        if not channels:
            raise fail(
                "no alert channel is configured, so alerts are only events; set e.g. "
                "SPAMOPS_ALERTS__SLACK__WEBHOOK_URL (see docs/alerts.md)"
            )
        if via_bus and not any(c.accepts(severity) for c in channels):
            raise fail(f"no configured channel takes {severity} alerts (see MIN_SEVERITY)")
        try:
            if via_bus:
                outcomes = asyncio.run(_via_bus(settings, channels, severity, timeout))
            else:
                outcomes = asyncio.run(_direct(channels, test_alert(settings, severity)))
        except NoRedisError as exc:
            raise fail(str(exc)) from None
        _report(outcomes)
        if not outcomes or not all(o.ok for o in outcomes):
            raise typer.Exit(1)

    app.add_typer(alerts, name="alerts")
