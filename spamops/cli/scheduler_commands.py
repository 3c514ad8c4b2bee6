"""`spamops scheduler`: publish scheduled retraining requests until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import typer

from spamops.cli.context import fail, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings

__all__ = ["register"]


async def _run(settings: Settings) -> None:
    from producers.scheduler import RetrainScheduler  # APScheduler: only when scheduling

    async with open_bus(settings, component="scheduler") as bus:
        publisher = bus.buffered()
        await publisher.start()
        scheduler = RetrainScheduler(settings, bus, publisher)
        scheduler.start()
        typer.echo(f"next scheduled retrain: {scheduler.next_run}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            scheduler.stop()
            await publisher.close()


def register(app: typer.Typer) -> None:
    @app.command("scheduler")
    def scheduler(ctx: typer.Context) -> None:
        """Request retraining on SPAMOPS_RETRAIN__SCHEDULE_CRON (UTC) until SIGTERM."""
        try:
            asyncio.run(_run(settings_of(ctx)))
        except NoRedisError as exc:
            raise fail(str(exc)) from None
        except ValueError as exc:
            raise fail(str(exc), code=2) from None
