"""`spamops serve`: the API under uvicorn (uvloop, httptools)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from spamops.cli.context import settings_of

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Default: SPAMOPS_API__HOST.")] = None,
        port: Annotated[int | None, typer.Option(help="Default: SPAMOPS_API__PORT.")] = None,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    ) -> None:
        """Serve the HTTP API until SIGTERM/Ctrl-C."""
        settings = settings_of(ctx)  # each worker rebuilds its own from the same environment
        uvicorn.run(
            "spamops.asgi:create",
            factory=True,
            host=host or settings.api.host,
            port=port or settings.api.port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            access_log=False,  # every call is an `access.recorded` event instead
            log_level="info",
            timeout_graceful_shutdown=10,
        )
