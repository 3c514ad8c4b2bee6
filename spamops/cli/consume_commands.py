"""`spamops consume NAME...`: host consumers in this process until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Annotated

import typer

from consumers.runner import CONSUMER_FACTORIES, UnknownConsumerError, serve
from spamops.cli.context import fail, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings

__all__ = ["register"]


async def _consume(settings: Settings, names: list[str], member: str) -> int:
    async with open_bus(settings, component=f"consumer-{'+'.join(names)}") as bus:
        return await serve(settings, bus, names, member)


def register(app: typer.Typer) -> None:
    @app.command("consume")
    def consume(
        ctx: typer.Context,
        names: Annotated[list[str], typer.Argument(help="Consumers to run in this process.")],
        member: Annotated[
            str | None, typer.Option(help="Group member name (default: host-pid).")
        ] = None,
    ) -> None:
        """Run consumers (e.g. `drift performance`) until SIGTERM, then drain and exit 0."""
        unknown = [n for n in names if n not in CONSUMER_FACTORIES]
        if unknown:
            known = ", ".join(sorted(CONSUMER_FACTORIES)) or "none yet"
            raise fail(f"unknown consumer(s) {', '.join(unknown)}; known: {known}", code=2)
        settings = settings_of(ctx)
        try:
            code = asyncio.run(
                _consume(settings, names, member or f"{socket.gethostname()}-{os.getpid()}")
            )
        except (NoRedisError, UnknownConsumerError) as exc:
            raise fail(str(exc)) from None
        raise typer.Exit(code)
