"""`spamops config env-example`: every setting as an environment file (`.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(
        help="Configuration: every setting and its default.", no_args_is_help=True
    )

    @config_app.command("env-example")
    def env_example(
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write here, not to stdout.")
        ] = None,
        check: Annotated[
            Path | None,
            typer.Option(help="Compare with this file; exit 1 if it differs (CI, pre-commit)."),
        ] = None,
    ) -> None:
        """Print every setting as a commented `SPAMOPS_...=default` line with its
        documentation, and the compose file's own variables (the text of `.env.example`)."""
        from spamops.envfile import env_example as generate
        from spamops.envfile import settings_variables

        text = generate()
        if check is not None:
            current = check.read_text(encoding="utf-8") if check.exists() else ""
            if current != text:
                typer.secho(
                    f"{check} is stale: spamops config env-example -o {check}",
                    fg=typer.colors.RED,
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo(f"{check} is up to date")
            return
        if output is not None:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output} ({len(settings_variables())} settings)", err=True)
            return
        typer.echo(text, nl=False)

    app.add_typer(config_app, name="config")
