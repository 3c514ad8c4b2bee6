"""`spamops up`: the whole system on this machine; `spamops init`: only its preparation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from spamops.cli.context import fail, settings_of

__all__ = ["register"]


async def _run_inheriting(name: str, argv: Sequence[str]) -> int:
    typer.echo(f"== {name}: {' '.join(argv[1:])}", err=True)
    return await asyncio.to_thread(lambda: subprocess.run(list(argv), check=False).returncode)


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(
        ctx: typer.Context,
        simulate: Annotated[
            bool,
            typer.Option(
                "--simulate", help="Also drive demo traffic with a drift episode (the whole loop)."
            ),
        ] = False,
        dashboard: Annotated[bool, typer.Option(help="Start the Streamlit dashboard.")] = True,
        mlflow_ui: Annotated[bool, typer.Option(help="Start the MLflow UI.")] = True,
        api_port: Annotated[
            int | None, typer.Option(min=1, max=65535, help="Default: SPAMOPS_API__PORT.")
        ] = None,
        dashboard_port: Annotated[
            int | None, typer.Option(min=1, max=65535, help="Default: SPAMOPS_DASHBOARD__PORT.")
        ] = None,
        mlflow_port: Annotated[
            int | None,
            typer.Option(min=1, max=65535, help="Default: SPAMOPS_LAUNCHER__MLFLOW_PORT."),
        ] = None,
    ) -> None:
        """Start Redis, every consumer, the API, scheduler, dashboard and MLflow UI; Ctrl-C
        stops them all (docs/deployment.md)."""
        from spamops.launcher.stack import UpOptions, run_stack

        settings = settings_of(ctx)
        updates: dict[str, object] = {}
        if api_port:
            updates["api"] = settings.api.model_copy(update={"port": api_port})
        if dashboard_port:
            updates["dashboard"] = settings.dashboard.model_copy(update={"port": dashboard_port})
        if mlflow_port:
            updates["launcher"] = settings.launcher.model_copy(update={"mlflow_port": mlflow_port})
        options = UpOptions(simulate=simulate, dashboard=dashboard, mlflow_ui=mlflow_ui)
        raise typer.Exit(run_stack(settings.model_copy(update=updates), options))

    @app.command("init")
    def init(ctx: typer.Context) -> None:
        """Get the corpus, upgrade the store's schema, train a champion if none exists
        (the compose file's one-shot init service; safe to repeat)."""
        from spamops.launcher.prepare import PrepareError, prepare

        settings = settings_of(ctx)
        try:
            asyncio.run(prepare(settings, _run_inheriting, lambda text: typer.echo(text, err=True)))
        except PrepareError as exc:
            raise fail(str(exc)) from None
        sys.stdout.flush()
