"""`spamops serve`: the API under uvicorn (see `spamops.asgi`)."""

from __future__ import annotations

from typing import Annotated

import typer

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
        """Serve the HTTP API until SIGTERM/Ctrl-C (`python -m spamops.asgi` starts faster)."""
        from spamops.asgi import serve as run

        settings = settings_of(ctx)  # each worker rebuilds its own from the same environment
        run(host or settings.api.host, port or settings.api.port, workers, settings)
