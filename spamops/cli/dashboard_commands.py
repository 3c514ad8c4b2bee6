"""`spamops dashboard`: the Streamlit dashboard, as its own process (`streamlit run`).

Streamlit owns its process (its server, its event loop, its script threads), so the command
replaces itself with `streamlit run dashboard/app.py` (by way of `dashboard.server`, which
imports the pages' modules first), with flags for a server, not a notebook: headless (no
browser opened), no usage statistics sent, no file watching or run-on-save, no "magic"
printing of bare strings, and the developer menu hidden. The dashboard reads its own settings
(`SPAMOPS_DASHBOARD__*`) from the environment it inherits; the token never appears on a
command line.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from spamops.cli.context import settings_of

__all__ = ["register", "streamlit_command"]


def streamlit_command(host: str, port: int) -> list[str]:
    """The argument vector that serves the dashboard on `host:port` (`streamlit run`,
    through `dashboard.server`, which imports the pages' modules first)."""
    return [
        sys.executable,
        "-m",
        "dashboard.server",
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--client.showErrorDetails=type",
        "--runner.magicEnabled=false",
        "--logger.level=warning",
        "--theme.base=light",
    ]


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Default: SPAMOPS_DASHBOARD__HOST.")] = None,
        port: Annotated[
            int | None, typer.Option(min=1, max=65535, help="Default: SPAMOPS_DASHBOARD__PORT.")
        ] = None,
        api_url: Annotated[
            str | None, typer.Option(help="The API to read. Default: SPAMOPS_DASHBOARD__API_URL.")
        ] = None,
    ) -> None:
        """Serve the Streamlit dashboard until Ctrl-C (pages: docs/dashboard.md)."""
        config = settings_of(ctx).dashboard
        env = dict(os.environ)
        if api_url:
            env["SPAMOPS_DASHBOARD__API_URL"] = api_url
        command = streamlit_command(host or config.host, port or config.port)
        typer.echo(
            f"dashboard on http://{host or config.host}:{port or config.port}/ reading "
            f"{api_url or config.api_url}",
            err=True,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, command, env)  # noqa: S606 - becomes the server; no shell
